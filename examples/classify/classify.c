/*===- classify.c - Run a .vitb artifact through the vitrt C API ----------===*\
 *
 * The smallest application of the runtime: loads a compiled model, fills its
 * input with random values or a raw float32 file, runs it once, and prints
 * the five highest logits of every image.
 *
 *   classify model.vitb [input.raw]
 *
 * input.raw holds the input tensor as little-endian float32 values in
 * row-major order, in the model's layout (x.astype(np.float32).tofile()).
 *
\*===----------------------------------------------------------------------===*/

#include "vitc/Runtime/vitrt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

enum { TOP_K = 5 };

static int fail(const char *what) {
  fprintf(stderr, "classify: error: %s: %s\n", what, vitrt_last_error());
  return 1;
}

static size_t element_count(const vitrt_tensor_info *info) {
  size_t count = 1;
  for (int i = 0; i < info->rank; ++i)
    count *= (size_t)info->dims[i];
  return count;
}

static void print_shape(const vitrt_tensor_info *info) {
  printf("[");
  for (int i = 0; i < info->rank; ++i)
    printf("%s%" PRId64, i ? ", " : "", info->dims[i]);
  printf("]");
}

/* Reads exactly `count` floats; a file of any other size is an error. */
static int read_raw(const char *path, float *data, size_t count) {
  FILE *file = fopen(path, "rb");
  if (!file) {
    perror(path);
    return 0;
  }
  size_t got = fread(data, sizeof(float), count, file);
  int extra = fgetc(file) != EOF;
  fclose(file);
  if (got != count || extra) {
    fprintf(stderr, "classify: error: %s: expected %zu bytes of float32\n",
            path, count * sizeof(float));
    return 0;
  }
  return 1;
}

/* Uniform values in [-1, 1) from a fixed-seed xorshift generator, so runs
   are repeatable without depending on the C library's rand(). */
static void fill_random(float *data, size_t count) {
  uint64_t state = 0x9E3779B97F4A7C15u;
  for (size_t i = 0; i < count; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    data[i] = (float)(state >> 40) / (float)(1 << 23) - 1.0f;
  }
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: classify model.vitb [input.raw]\n");
    return 2;
  }

  vitrt_options options;
  vitrt_options_init(&options);
  vitrt_session *session = NULL;
  if (vitrt_session_create_from_file(argv[1], &options, &session) != VITRT_OK)
    return fail("loading the model");

  /* The example handles the common signature: one input, logits first. */
  vitrt_tensor_info input_info, output_info;
  if (vitrt_session_input_count(session) != 1 ||
      vitrt_session_input_info(session, 0, &input_info) != VITRT_OK ||
      vitrt_session_output_info(session, 0, &output_info) != VITRT_OK ||
      output_info.rank != 2) {
    fprintf(stderr, "classify: error: expected one input and [B, classes] "
                    "logits\n");
    vitrt_session_destroy(session);
    return 1;
  }

  size_t output_count = vitrt_session_output_count(session);
  float **outputs = calloc(output_count, sizeof(float *));
  float *input = malloc(element_count(&input_info) * sizeof(float));
  int status = outputs && input ? 0 : 1;
  for (size_t i = 0; i < output_count && !status; ++i) {
    vitrt_tensor_info info;
    if (vitrt_session_output_info(session, i, &info) != VITRT_OK ||
        !(outputs[i] = malloc(element_count(&info) * sizeof(float))))
      status = 1;
  }
  if (status)
    fprintf(stderr, "classify: error: out of memory\n");

  if (!status) {
    printf("model:  %s (%s %s)\n", vitrt_session_model_name(session),
           vitrt_session_target_kind(session),
           vitrt_session_target_name(session));
    printf("input:  ");
    print_shape(&input_info);
    printf(" %s, %s\n", vitrt_session_input_layout(session),
           argc == 3 ? argv[2] : "random");
    if (argc == 3)
      status = !read_raw(argv[2], input, element_count(&input_info));
    else
      fill_random(input, element_count(&input_info));
  }

  if (!status) {
    const float *inputs[1] = {input};
    if (vitrt_session_run(session, inputs, outputs) != VITRT_OK)
      status = fail("running the model");
  }

  if (!status) {
    printf("output: ");
    print_shape(&output_info);
    printf("\n");
    int64_t batch = output_info.dims[0], classes = output_info.dims[1];
    int top_k = classes < TOP_K ? (int)classes : TOP_K;
    for (int64_t image = 0; image < batch; ++image) {
      const float *logits = outputs[0] + image * classes;
      /* Selection of the k largest; ties go to the lower class index. */
      int64_t top[TOP_K];
      for (int rank = 0; rank < top_k; ++rank) {
        int64_t best = -1;
        for (int64_t c = 0; c < classes; ++c) {
          int taken = 0;
          for (int r = 0; r < rank; ++r)
            taken |= top[r] == c;
          if (!taken && (best < 0 || logits[c] > logits[best]))
            best = c;
        }
        top[rank] = best;
      }
      printf("image %" PRId64 ":\n", image);
      for (int rank = 0; rank < top_k; ++rank)
        printf("  #%d  class %" PRId64 "  logit %.4f\n", rank + 1, top[rank],
               logits[top[rank]]);
    }
  }

  for (size_t i = 0; outputs && i < output_count; ++i)
    free(outputs[i]);
  free(outputs);
  free(input);
  vitrt_session_destroy(session);
  return status;
}
