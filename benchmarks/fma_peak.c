/* fma_peak.c - measures this machine's fp32 FMA peak in GFLOP/s.
 *
 * Each thread runs independent chains of fused multiply-adds in vector
 * registers, acc = acc * m + c, with enough chains (accumulators) to cover
 * the FMA latency times the number of FMA units (Zen 3 and Skylake-class
 * cores: 4 cycles x 2 units = 8 FMAs in flight), so that the FMA units are
 * the only limit. One FMA on a W-lane register counts as 2 x W flops. The
 * chains converge to c / (1 - m), so the values stay normal (no overflow,
 * no denormals) however long the run.
 *
 * The variant is chosen at run time: 16 zmm accumulators (AVX-512F) when
 * the CPU has avx512f, else 12 ymm accumulators (AVX2 + FMA). Both are
 * compiled with target attributes, so plain `cc -O2` builds this file on
 * any x86-64 compiler that knows the intrinsics.
 *
 *   cc -O2 -pthread fma_peak.c -o fma_peak
 *   ./fma_peak [-s SECONDS] [-i auto|avx2|avx512] [THREADS ...]
 *
 * It calibrates the iteration count so that one thread runs for about
 * SECONDS (0.5 by default), then, for each THREADS count (default: 1 and
 * every CPU of the affinity mask), runs that many threads, one per CPU and
 * pinned to it, each with the calibrated count, and reports the best of 3
 * runs: all threads' flops over the wall time from the common start to the
 * last thread's end. It prints lines that benchmarks/peers.py reads:
 *
 *   isa avx2 lanes 8 chains 12
 *   peak threads 1 gflops 70.12
 *   peak threads 2 gflops 139.80
 *
 * The accumulators are summed and printed as a checksum, so the compiler
 * cannot drop the loop; the multiplier and addend come from volatile
 * variables, so it cannot fold the chains either.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define AVX2_CHAINS 12
#define AVX512_CHAINS 16

static volatile float multiplier = 0.999999f;
static volatile float addend = 1e-6f;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

__attribute__((target("avx2,fma"), noinline)) static float
chains_avx2(int64_t iterations) {
  const __m256 m = _mm256_set1_ps(multiplier);
  const __m256 c = _mm256_set1_ps(addend);
  __m256 acc[AVX2_CHAINS];
  for (int i = 0; i < AVX2_CHAINS; ++i)
    acc[i] = _mm256_set1_ps((float)i);
  for (int64_t n = 0; n < iterations; ++n) {
    /* Written out so that every accumulator stays in its own register. */
    acc[0] = _mm256_fmadd_ps(acc[0], m, c);
    acc[1] = _mm256_fmadd_ps(acc[1], m, c);
    acc[2] = _mm256_fmadd_ps(acc[2], m, c);
    acc[3] = _mm256_fmadd_ps(acc[3], m, c);
    acc[4] = _mm256_fmadd_ps(acc[4], m, c);
    acc[5] = _mm256_fmadd_ps(acc[5], m, c);
    acc[6] = _mm256_fmadd_ps(acc[6], m, c);
    acc[7] = _mm256_fmadd_ps(acc[7], m, c);
    acc[8] = _mm256_fmadd_ps(acc[8], m, c);
    acc[9] = _mm256_fmadd_ps(acc[9], m, c);
    acc[10] = _mm256_fmadd_ps(acc[10], m, c);
    acc[11] = _mm256_fmadd_ps(acc[11], m, c);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < AVX2_CHAINS; ++i)
    sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  float total = 0;
  for (int i = 0; i < 8; ++i)
    total += lanes[i];
  return total;
}

__attribute__((target("avx512f"), noinline)) static float
chains_avx512(int64_t iterations) {
  const __m512 m = _mm512_set1_ps(multiplier);
  const __m512 c = _mm512_set1_ps(addend);
  __m512 acc[AVX512_CHAINS];
  for (int i = 0; i < AVX512_CHAINS; ++i)
    acc[i] = _mm512_set1_ps((float)i);
  for (int64_t n = 0; n < iterations; ++n) {
    acc[0] = _mm512_fmadd_ps(acc[0], m, c);
    acc[1] = _mm512_fmadd_ps(acc[1], m, c);
    acc[2] = _mm512_fmadd_ps(acc[2], m, c);
    acc[3] = _mm512_fmadd_ps(acc[3], m, c);
    acc[4] = _mm512_fmadd_ps(acc[4], m, c);
    acc[5] = _mm512_fmadd_ps(acc[5], m, c);
    acc[6] = _mm512_fmadd_ps(acc[6], m, c);
    acc[7] = _mm512_fmadd_ps(acc[7], m, c);
    acc[8] = _mm512_fmadd_ps(acc[8], m, c);
    acc[9] = _mm512_fmadd_ps(acc[9], m, c);
    acc[10] = _mm512_fmadd_ps(acc[10], m, c);
    acc[11] = _mm512_fmadd_ps(acc[11], m, c);
    acc[12] = _mm512_fmadd_ps(acc[12], m, c);
    acc[13] = _mm512_fmadd_ps(acc[13], m, c);
    acc[14] = _mm512_fmadd_ps(acc[14], m, c);
    acc[15] = _mm512_fmadd_ps(acc[15], m, c);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < AVX512_CHAINS; ++i)
    sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

/* The chosen variant: its kernel, flops per loop iteration. */
static float (*kernel)(int64_t);
static double flops_per_iteration;

typedef struct worker {
  pthread_t thread;
  int cpu; /* -1: not pinned */
  int64_t iterations;
  pthread_barrier_t *start;
  float checksum;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  if (w->cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    /* Best effort: an unpinned thread still measures the same peak. */
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  pthread_barrier_wait(w->start);
  w->checksum = kernel(w->iterations);
  return NULL;
}

static double checksum_total;

/* Wall seconds for `threads` threads running `iterations` each. */
static double timed_run(int threads, const int *cpus, int64_t iterations) {
  worker *workers = calloc((size_t)threads, sizeof *workers);
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
  for (int i = 0; i < threads; ++i) {
    workers[i].cpu = cpus ? cpus[i] : -1;
    workers[i].iterations = iterations;
    workers[i].start = &start;
    if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) {
      fprintf(stderr, "fma_peak: error: cannot create thread %d\n", i);
      exit(1);
    }
  }
  pthread_barrier_wait(&start);
  double begin = now();
  for (int i = 0; i < threads; ++i)
    pthread_join(workers[i].thread, NULL);
  double seconds = now() - begin;
  for (int i = 0; i < threads; ++i)
    checksum_total += workers[i].checksum;
  pthread_barrier_destroy(&start);
  free(workers);
  return seconds;
}

static double best_gflops(int threads, const int *cpus, int64_t iterations) {
  double best = 0;
  for (int repeat = 0; repeat < 3; ++repeat) {
    double seconds = timed_run(threads, cpus, iterations);
    double gflops =
        (double)threads * (double)iterations * flops_per_iteration / seconds / 1e9;
    if (gflops > best)
      best = gflops;
  }
  return best;
}

static void usage(void) {
  fprintf(stderr,
          "usage: fma_peak [-s SECONDS] [-i auto|avx2|avx512] [THREADS ...]\n");
  exit(1);
}

int main(int argc, char **argv) {
  double target = 0.5;
  const char *isa = "auto";
  int option;
  while ((option = getopt(argc, argv, "s:i:")) != -1) {
    if (option == 's')
      target = atof(optarg);
    else if (option == 'i')
      isa = optarg;
    else
      usage();
  }
  if (!(target > 0 && target <= 60)) {
    fprintf(stderr, "fma_peak: error: -s SECONDS must be in (0, 60]\n");
    return 1;
  }

  __builtin_cpu_init();
  int has_avx512 = __builtin_cpu_supports("avx512f");
  int has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (strcmp(isa, "auto") == 0)
    isa = has_avx512 ? "avx512" : "avx2";
  if (strcmp(isa, "avx512") == 0 && has_avx512) {
    kernel = chains_avx512;
    flops_per_iteration = 2.0 * 16 * AVX512_CHAINS;
    printf("isa avx512 lanes 16 chains %d\n", AVX512_CHAINS);
  } else if (strcmp(isa, "avx2") == 0 && has_avx2) {
    kernel = chains_avx2;
    flops_per_iteration = 2.0 * 8 * AVX2_CHAINS;
    printf("isa avx2 lanes 8 chains %d\n", AVX2_CHAINS);
  } else {
    fprintf(stderr, "fma_peak: error: this CPU cannot run isa '%s' "
                    "(avx2+fma: %s, avx512f: %s)\n",
            isa, has_avx2 ? "yes" : "no", has_avx512 ? "yes" : "no");
    return 1;
  }

  /* The CPUs this process may run on; thread i is pinned to the i-th. */
  cpu_set_t allowed;
  static int cpus[CPU_SETSIZE];
  int count = 0;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &allowed))
        cpus[count++] = cpu;
  }
  if (count == 0)
    count = 1;

  int counts[64], runs = 0;
  for (int i = optind; i < argc; ++i) {
    int threads = atoi(argv[i]);
    if (threads < 1 || threads > 4096 || runs == 64)
      usage();
    counts[runs++] = threads;
  }
  if (runs == 0) {
    counts[runs++] = 1;
    if (count > 1)
      counts[runs++] = count;
  }

  /* Calibrate on one thread: double until a run takes 50 ms, then scale. */
  int64_t iterations = 1 << 16;
  double seconds;
  while ((seconds = timed_run(1, cpus, iterations)) < 0.05)
    iterations *= 2;
  iterations = (int64_t)((double)iterations * target / seconds) + 1;

  for (int i = 0; i < runs; ++i) {
    /* More threads than CPUs: leave them to the scheduler. */
    const int *pin = counts[i] <= count ? cpus : NULL;
    printf("peak threads %d gflops %.2f\n", counts[i],
           best_gflops(counts[i], pin, iterations));
    fflush(stdout);
  }
  printf("checksum %g\n", checksum_total);
  return 0;
}
