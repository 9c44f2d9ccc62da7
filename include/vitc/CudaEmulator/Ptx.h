//===- Ptx.h - PTX modules decoded for the CUDA driver emulator -----------===//
//
// The emulator parses a PTX module once, at cuModuleLoadDataEx, into the
// compact form below: per kernel, a register file layout, its parameters and
// shared variables, and an instruction array whose operands are already
// resolved (register numbers, immediates, symbol offsets, branch targets).
// Anything the interpreter does not implement is refused here, with its PTX
// line, so that nothing is ever executed by guess.
//
//===----------------------------------------------------------------------===//

#ifndef VITC_CUDAEMULATOR_PTX_H
#define VITC_CUDAEMULATOR_PTX_H

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vitc::emulator {

/// PTX fundamental types. Values live in 64-bit register slots; a type says
/// how many low bits count and how they are interpreted.
enum class Type : uint8_t {
  None,
  Pred,
  B8,
  B16,
  B32,
  B64,
  B128,
  U8,
  U16,
  U32,
  U64,
  S8,
  S16,
  S32,
  S64,
  F16,
  F16x2,
  BF16,
  BF16x2,
  TF32, ///< f32 bits of which tensor cores read the upper 19
  F32,
  F64,
};

/// Size in bytes of a value of `type` in memory (predicates: 1).
unsigned sizeOf(Type type);
bool isFloat(Type type);
bool isSigned(Type type);
const char *name(Type type);

enum class Space : uint8_t { Generic, Global, Shared, Param, Local, Const };

enum class Opcode : uint8_t {
  // Data movement.
  Mov,
  Ld,
  St,
  Cvta,
  CvtaTo,
  Cvt,
  // Integer and floating-point arithmetic.
  Add,
  Sub,
  Mul,
  Mad,
  Fma,
  Div,
  Rem,
  Abs,
  Neg,
  Min,
  Max,
  // Special functions (floating point).
  Rcp,
  Sqrt,
  Rsqrt,
  Ex2,
  Lg2,
  Sin,
  Cos,
  Tanh,
  // Bits and logic.
  And,
  Or,
  Xor,
  Not,
  Shl,
  Shr,
  Bfe,
  Popc,
  Clz,
  // Comparison and selection.
  Setp,
  Selp,
  // Control flow and synchronization.
  Bra,
  Ret,
  Exit,
  BarSync,
  BarWarpSync,
  Shfl,
  Vote,
  Fence,
  // Tensor cores and asynchronous copies.
  Ldmatrix,
  Mma,
  CpAsync,
  CpAsyncCommit,
  CpAsyncWaitGroup,
  CpAsyncWaitAll,
};

/// Comparison of setp: integer, unsigned and ordered/unordered float forms.
enum class Compare : uint8_t {
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  Lo,
  Ls,
  Hi,
  Hs,
  Equ,
  Neu,
  Ltu,
  Leu,
  Gtu,
  Geu,
  Num,
  Nan,
};

/// IEEE rounding of floating-point results, or the rounding of a
/// float-to-integer (or float-to-integral) conversion.
enum class Rounding : uint8_t {
  None,
  Rn,
  Rna, ///< to nearest, ties away from zero (cvt to .tf32 only)
  Rz,
  Rm,
  Rp,
  Rni,
  Rzi,
  Rmi,
  Rpi
};

enum class MulMode : uint8_t { Default, Lo, Hi, Wide };
enum class ShflMode : uint8_t { Up, Down, Bfly, Idx };
enum class VoteMode : uint8_t { All, Any, Uni, Ballot };
enum class BoolOp : uint8_t { None, And, Or, Xor };

struct Operand {
  enum Kind : uint8_t {
    None,
    Register,    ///< `reg`
    NotRegister, ///< `!reg`: a negated predicate
    Immediate,   ///< `bits`
    Special,     ///< `special` (a SpecialRegister)
    Address,     ///< `[reg + bits]` (reg < 0: absolute `bits`)
    Vector,      ///< `count` registers from `reg` in Kernel::vectorRegisters
    Sink,        ///< `_`: a result that is discarded
  };
  Kind kind = None;
  uint8_t special = 0;
  uint8_t count = 0;
  int32_t reg = -1;
  uint64_t bits = 0;
};

enum SpecialRegister : uint8_t {
  TidX,
  TidY,
  TidZ,
  NtidX,
  NtidY,
  NtidZ,
  CtaidX,
  CtaidY,
  CtaidZ,
  NctaidX,
  NctaidY,
  NctaidZ,
  LaneId,
  WarpId,
  NWarpId,
};

/// The cost classes of the emulator's counters (docs/cuda-emulator.md).
enum class InstructionClass : uint8_t {
  Fp32Fma,
  Fp32Alu,
  TensorCore,
  SpecialFunction,
  Integer,
  Conversion,
  Memory,
  Control,
  Count
};

struct Instruction {
  Opcode opcode;
  Type type = Type::None;
  Type sourceType = Type::None;      ///< cvt's source, setp's compared type,
                                     ///< mma's A and B type
  Type accumulatorType = Type::None; ///< mma's C type (`type` is D's)
  uint8_t mmaK = 0;                  ///< mma's shape: m16n8k<mmaK>
  Space space = Space::Generic;
  uint8_t vectorWidth = 1; ///< ld/st .v2/.v4
  Compare compare = Compare::Eq;
  Rounding rounding = Rounding::None;
  MulMode mulMode = MulMode::Default;
  ShflMode shflMode = ShflMode::Idx;
  VoteMode voteMode = VoteMode::All;
  BoolOp boolOp = BoolOp::None;
  InstructionClass cost = InstructionClass::Integer;
  bool ftz = false, saturate = false, approx = false, propagateNan = false;
  bool transpose = false; ///< ldmatrix .trans
  int32_t guard = -1;     ///< predicate register, or -1
  bool guardNegated = false;
  uint8_t numOperands = 0;
  static constexpr unsigned kMaxOperands = 6;
  Operand operands[kMaxOperands];
  uint32_t target = 0; ///< bra: instruction index
  uint32_t line = 0;   ///< 1-based PTX source line
};

struct Parameter {
  std::string name;
  uint32_t offset = 0, size = 0;
};

struct Kernel {
  std::string name;
  bool isEntry = true;
  std::vector<Parameter> parameters;
  uint32_t parameterBytes = 0;
  uint32_t staticSharedBytes = 0;
  /// Offset of `.extern .shared` arrays (the dynamic shared memory).
  uint32_t dynamicSharedOffset = 0;
  uint32_t maxThreads = 0; ///< .maxntid/.reqntid product, 0 when absent
  uint32_t numRegisters = 0;
  std::vector<int32_t> vectorRegisters;
  /// Registers that hold an immediate of a vector operand
  /// (`{0f00000000, %r1}`), set in every thread before it starts.
  std::vector<std::pair<int32_t, uint64_t>> constantRegisters;
  std::vector<Instruction> code;
  /// Whether the kernel uses a warp collective (shfl/vote/bar.warp.sync).
  bool usesWarpCollectives = false;
  /// Whether the kernel uses cp.async (its per-thread groups are tracked).
  bool usesAsyncCopies = false;
};

struct Module {
  std::string version, target;
  unsigned addressSize = 64;
  std::vector<Kernel> kernels;
  const Kernel *find(const std::string &name) const;
};

/// Parses `text`. On failure returns null and sets `error` to one line
/// naming the PTX line and what was not understood or not supported.
std::unique_ptr<Module> parsePtx(const std::string &text, std::string &error);

} // namespace vitc::emulator

#endif // VITC_CUDAEMULATOR_PTX_H
