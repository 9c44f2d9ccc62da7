//===- PtxParser.cpp - Decoding PTX text for the emulator -----------------===//
//
// A lexer that keeps line numbers, a module-level parser for the directives
// LLVM's NVPTX back end emits, and an instruction decoder that resolves
// every operand once. Whatever is not understood stops the load with the
// line and the text, because executing an instruction by guess would make
// every later test result meaningless.
//
//===----------------------------------------------------------------------===//

#include "vitc/CudaEmulator/Ptx.h"

#include <cctype>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>

namespace vitc::emulator {

unsigned sizeOf(Type type) {
  switch (type) {
  case Type::None:
    return 0;
  case Type::Pred:
  case Type::B8:
  case Type::U8:
  case Type::S8:
    return 1;
  case Type::B16:
  case Type::U16:
  case Type::S16:
  case Type::F16:
  case Type::BF16:
    return 2;
  case Type::B32:
  case Type::U32:
  case Type::S32:
  case Type::F32:
  case Type::F16x2:
  case Type::BF16x2:
  case Type::TF32:
    return 4;
  case Type::B64:
  case Type::U64:
  case Type::S64:
  case Type::F64:
    return 8;
  case Type::B128:
    return 16;
  }
  return 0;
}

bool isFloat(Type type) {
  return type == Type::F16 || type == Type::F16x2 || type == Type::BF16 ||
         type == Type::BF16x2 || type == Type::TF32 || type == Type::F32 ||
         type == Type::F64;
}

bool isSigned(Type type) {
  return type == Type::S8 || type == Type::S16 || type == Type::S32 ||
         type == Type::S64;
}

namespace {

const std::map<std::string, Type> &typeNames() {
  static const std::map<std::string, Type> names = {
      {"pred", Type::Pred},   {"b8", Type::B8},     {"b16", Type::B16},
      {"b32", Type::B32},     {"b64", Type::B64},   {"b128", Type::B128},
      {"u8", Type::U8},       {"u16", Type::U16},   {"u32", Type::U32},
      {"u64", Type::U64},     {"s8", Type::S8},     {"s16", Type::S16},
      {"s32", Type::S32},     {"s64", Type::S64},   {"f16", Type::F16},
      {"f16x2", Type::F16x2}, {"bf16", Type::BF16}, {"bf16x2", Type::BF16x2},
      {"tf32", Type::TF32},   {"f32", Type::F32},   {"f64", Type::F64}};
  return names;
}

} // namespace

const char *name(Type type) {
  for (const auto &[text, value] : typeNames())
    if (value == type)
      return text.c_str();
  return "none";
}

const Kernel *Module::find(const std::string &kernelName) const {
  for (const Kernel &kernel : kernels)
    if (kernel.name == kernelName)
      return &kernel;
  return nullptr;
}

namespace {

/// A load failure: the message names the line.
struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(unsigned line, const std::string &message) {
  throw ParseError("line " + std::to_string(line) + ": " + message);
}

struct Token {
  enum Kind { Word, Number, String, Punct, End } kind;
  std::string text;
  unsigned line;
};

std::vector<Token> lex(const std::string &text) {
  std::vector<Token> tokens;
  unsigned line = 1;
  size_t i = 0, n = text.size();
  auto isWordStart = [](char c) {
    return std::isalpha((unsigned char)c) || c == '_' || c == '$' || c == '%' ||
           c == '.';
  };
  auto isWordChar = [](char c) {
    return std::isalnum((unsigned char)c) || c == '_' || c == '$' || c == '.' ||
           c == ':';
  };
  while (i < n) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (std::isspace((unsigned char)c)) {
      ++i;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '/') {
      while (i < n && text[i] != '\n')
        ++i;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      i += 2;
      while (i + 1 < n && !(text[i] == '*' && text[i + 1] == '/')) {
        if (text[i] == '\n')
          ++line;
        ++i;
      }
      i += 2;
    } else if (c == '"') {
      size_t start = ++i;
      while (i < n && text[i] != '"' && text[i] != '\n')
        ++i;
      tokens.push_back({Token::String, text.substr(start, i - start), line});
      ++i;
    } else if (std::isdigit((unsigned char)c)) {
      size_t start = i;
      while (i < n && (std::isalnum((unsigned char)text[i]) || text[i] == '.'))
        ++i;
      tokens.push_back({Token::Number, text.substr(start, i - start), line});
    } else if (isWordStart(c)) {
      size_t start = i++;
      while (i < n && isWordChar(text[i])) {
        // "::" belongs to a word (ld.shared::cta); a lone ':' ends a label.
        if (text[i] == ':' && !(i + 1 < n && text[i + 1] == ':') &&
            !(text[i - 1] == ':'))
          break;
        ++i;
      }
      tokens.push_back({Token::Word, text.substr(start, i - start), line});
    } else {
      tokens.push_back({Token::Punct, std::string(1, c), line});
      ++i;
    }
  }
  tokens.push_back({Token::End, "", line});
  return tokens;
}

/// Integer literal: decimal, 0x hex, or 0f/0d hexadecimal float bits.
bool parseNumber(const std::string &text, uint64_t &bits, bool &isFloatBits) {
  isFloatBits = false;
  const char *s = text.c_str();
  char *end = nullptr;
  if (text.size() > 2 && text[0] == '0' &&
      (text[1] == 'f' || text[1] == 'F' || text[1] == 'd' || text[1] == 'D')) {
    bits = std::strtoull(s + 2, &end, 16);
    isFloatBits = true;
  } else if (text.size() > 2 && text[0] == '0' &&
             (text[1] == 'x' || text[1] == 'X')) {
    bits = std::strtoull(s + 2, &end, 16);
  } else {
    bits = std::strtoull(s, &end, 10);
  }
  if (*end == 'U' || *end == 'u')
    ++end;
  return *end == 0;
}

class Parser {
public:
  explicit Parser(const std::string &text) : tokens(lex(text)) {}

  std::unique_ptr<Module> parse() {
    auto module = std::make_unique<Module>();
    this->module = module.get();
    while (peek().kind != Token::End)
      parseTopLevel();
    return module;
  }

private:
  // --- Token stream -------------------------------------------------------
  const Token &peek(size_t ahead = 0) const {
    return tokens[std::min(position + ahead, tokens.size() - 1)];
  }
  const Token &next() {
    const Token &token = peek();
    if (position < tokens.size() - 1)
      ++position;
    return token;
  }
  bool accept(const char *text) {
    if (peek().kind != Token::End && peek().text == text) {
      next();
      return true;
    }
    return false;
  }
  void expect(const char *text) {
    if (!accept(text))
      fail(peek().line,
           std::string("expected '") + text + "', found '" + peek().text + "'");
  }
  uint64_t expectInteger() {
    const Token &token = next();
    uint64_t value;
    bool isFloatBits;
    if (token.kind != Token::Number ||
        !parseNumber(token.text, value, isFloatBits))
      fail(token.line, "expected an integer, found '" + token.text + "'");
    return value;
  }
  void skipStatement() {
    while (peek().kind != Token::End && !accept(";"))
      next();
  }

  // --- Module level -------------------------------------------------------
  void parseTopLevel() {
    const Token &token = peek();
    if (token.text == ".version") {
      next();
      module->version = next().text;
    } else if (token.text == ".target") {
      next();
      module->target = next().text;
      while (accept(","))
        next();
    } else if (token.text == ".address_size") {
      next();
      module->addressSize = unsigned(expectInteger());
      if (module->addressSize != 64)
        fail(token.line, "only .address_size 64 is supported");
    } else if (token.text == ".visible" || token.text == ".weak") {
      next();
    } else if (token.text == ".extern") {
      next();
      if (peek().text == ".shared") {
        parseSharedVariable(/*isExtern=*/true, moduleShared);
      } else if (peek().text == ".func" || peek().text == ".entry") {
        fail(token.line, "external function declarations (calls) are not "
                         "supported");
      } else {
        fail(token.line, "unsupported .extern '" + peek().text + "'");
      }
    } else if (token.text == ".shared") {
      parseSharedVariable(/*isExtern=*/false, moduleShared);
    } else if (token.text == ".entry" || token.text == ".func") {
      parseFunction();
    } else if (token.text == ".global" || token.text == ".const") {
      fail(token.line, "module-scope " + token.text +
                           " variables are not supported by the emulator");
    } else {
      fail(token.line, "unsupported directive '" + token.text + "'");
    }
  }

  struct SharedVariable {
    std::string name;
    uint32_t align = 1, size = 0;
    bool isExtern = false;
  };

  void parseSharedVariable(bool isExtern, std::vector<SharedVariable> &into) {
    unsigned line = peek().line;
    expect(".shared");
    SharedVariable variable;
    variable.isExtern = isExtern;
    uint32_t elementSize = 1;
    while (peek().kind == Token::Word && peek().text[0] == '.') {
      std::string directive = next().text;
      if (directive == ".align") {
        variable.align = uint32_t(expectInteger());
      } else {
        auto type = typeNames().find(directive.substr(1));
        if (type == typeNames().end())
          fail(line, "unsupported .shared qualifier '" + directive + "'");
        elementSize = sizeOf(type->second);
      }
    }
    variable.name = next().text;
    uint64_t count = 1;
    if (accept("[")) {
      if (accept("]")) {
        count = 0;
      } else {
        count = expectInteger();
        expect("]");
      }
    }
    if (accept("="))
      fail(line, "initialized .shared variables are not supported");
    expect(";");
    variable.size = uint32_t(count * elementSize);
    into.push_back(variable);
  }

  void parseFunction() {
    Kernel kernel;
    unsigned line = peek().line;
    kernel.isEntry = next().text == ".entry";
    if (!kernel.isEntry && peek().text == "(")
      fail(line, ".func with a return value is not supported");
    kernel.name = next().text;
    if (accept("(")) {
      uint32_t offset = 0;
      while (!accept(")")) {
        expect(".param");
        Parameter parameter;
        uint32_t align = 0, elementSize = 0;
        while (peek().kind == Token::Word && peek().text[0] == '.') {
          std::string directive = next().text;
          if (directive == ".align") {
            align = uint32_t(expectInteger());
          } else if (directive == ".ptr" || directive == ".global" ||
                     directive == ".shared" || directive == ".const" ||
                     directive == ".local") {
            // Pointer annotations: the value is still a 64-bit address.
          } else {
            auto type = typeNames().find(directive.substr(1));
            if (type == typeNames().end())
              fail(peek().line,
                   "unsupported .param qualifier '" + directive + "'");
            elementSize = sizeOf(type->second);
          }
        }
        parameter.name = next().text;
        uint64_t count = 1;
        if (accept("[")) {
          count = expectInteger();
          expect("]");
        }
        parameter.size = uint32_t(elementSize * count);
        if (!align)
          align = elementSize ? elementSize : 1;
        offset = (offset + align - 1) / align * align;
        parameter.offset = offset;
        offset += parameter.size;
        kernel.parameters.push_back(parameter);
        accept(",");
      }
      kernel.parameterBytes = offset;
    }
    // Performance directives before the body.
    while (peek().text != "{") {
      const Token &token = next();
      if (token.text == ".maxntid" || token.text == ".reqntid") {
        uint64_t threads = expectInteger();
        while (accept(","))
          threads *= expectInteger();
        kernel.maxThreads = uint32_t(threads);
      } else if (token.text == ".minnctapersm" || token.text == ".maxnreg" ||
                 token.text == ".maxnctapersm") {
        expectInteger();
      } else if (token.text == ".noreturn") {
      } else if (token.kind == Token::End || token.text == ";") {
        fail(token.line, "function '" + kernel.name + "' has no body");
      } else {
        fail(token.line, "unsupported function directive '" + token.text + "'");
      }
    }
    parseBody(kernel);
    module->kernels.push_back(std::move(kernel));
  }

  // --- Function bodies -----------------------------------------------------
  struct PendingBranch {
    size_t instruction;
    std::string label;
    unsigned line;
  };

  void parseBody(Kernel &kernel) {
    registers.clear();
    predicates.clear();
    labels.clear();
    branches.clear();
    localShared.clear();
    this->kernel = &kernel;
    expect("{");
    int depth = 1;
    while (depth > 0) {
      const Token &token = peek();
      if (token.kind == Token::End)
        fail(token.line, "unterminated body of '" + kernel.name + "'");
      if (accept("{")) {
        ++depth;
      } else if (accept("}")) {
        --depth;
      } else if (token.text == ".reg") {
        parseRegisters();
      } else if (token.text == ".shared") {
        parseSharedVariable(/*isExtern=*/false, localShared);
      } else if (token.text == ".pragma") {
        skipStatement();
      } else if (token.text == ".local" || token.text == ".param" ||
                 token.text == ".const" || token.text == ".global") {
        fail(token.line, "function-scope " + token.text +
                             " variables are not supported by the emulator");
      } else if (token.kind == Token::Word && peek(1).text == ":") {
        labels[token.text] = uint32_t(kernel.code.size());
        next();
        next();
      } else {
        parseInstruction();
      }
    }
    for (const PendingBranch &branch : branches) {
      auto label = labels.find(branch.label);
      if (label == labels.end())
        fail(branch.line, "unknown label '" + branch.label + "'");
      kernel.code[branch.instruction].target = label->second;
    }
    layOutShared(kernel);
    kernel.numRegisters = nextRegister;
    nextRegister = 0;
  }

  void layOutShared(Kernel &kernel) {
    uint32_t offset = 0;
    uint32_t externAlign = 1;
    auto place = [&](const std::vector<SharedVariable> &variables) {
      for (const SharedVariable &variable : variables) {
        if (variable.isExtern) {
          externAlign = std::max(externAlign, variable.align);
          continue;
        }
        offset =
            (offset + variable.align - 1) / variable.align * variable.align;
        sharedOffsets[variable.name] = offset;
        offset += variable.size;
      }
    };
    sharedOffsets.clear();
    place(moduleShared);
    place(localShared);
    kernel.staticSharedBytes = offset;
    kernel.dynamicSharedOffset =
        (offset + externAlign - 1) / externAlign * externAlign;
    for (const SharedVariable &variable : moduleShared)
      if (variable.isExtern)
        sharedOffsets[variable.name] = kernel.dynamicSharedOffset;
    // Shared symbols were recorded by name while decoding; resolve them.
    for (auto &[instruction, operand, symbol, line] : sharedSymbolUses) {
      auto found = sharedOffsets.find(symbol);
      if (found == sharedOffsets.end())
        fail(line, "unknown symbol '" + symbol + "'");
      kernel.code[instruction].operands[operand].bits += found->second;
    }
    sharedSymbolUses.clear();
  }

  void parseRegisters() {
    unsigned line = next().line; // .reg
    std::string typeText = next().text;
    auto type = typeNames().find(typeText.substr(1));
    if (typeText.empty() || typeText[0] != '.' || type == typeNames().end())
      fail(line, "unsupported register type '" + typeText + "'");
    do {
      std::string base = next().text;
      uint64_t count = 1;
      bool range = accept("<");
      if (range) {
        count = expectInteger();
        expect(">");
      }
      for (uint64_t i = 0; i < count; ++i) {
        if (type->second == Type::Pred)
          predicates.insert(int32_t(nextRegister));
        registers[range ? base + std::to_string(i) : base] =
            int32_t(nextRegister++);
      }
    } while (accept(","));
    expect(";");
  }

  int32_t registerIndex(const Token &token) {
    auto found = registers.find(token.text);
    if (found == registers.end())
      fail(token.line, "unknown register '" + token.text + "'");
    return found->second;
  }

  // --- Instructions --------------------------------------------------------
  void parseInstruction() {
    Instruction instruction;
    instruction.line = peek().line;
    if (accept("@")) {
      instruction.guardNegated = accept("!");
      instruction.guard = registerIndex(next());
    }
    const Token &opcodeToken = next();
    if (opcodeToken.kind != Token::Word)
      fail(opcodeToken.line,
           "expected an instruction, found '" + opcodeToken.text + "'");
    std::string text = opcodeToken.text;
    currentText = text;
    currentLine = opcodeToken.line;
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t i = 0; i <= text.size(); ++i)
      if (i == text.size() || text[i] == '.') {
        parts.push_back(text.substr(start, i - start));
        start = i + 1;
      }
    decodeOpcode(parts, instruction);
    std::string label;
    if (instruction.opcode == Opcode::Bra) {
      label = next().text;
      branches.push_back({kernel->code.size(), label, instruction.line});
    } else {
      while (peek().text != ";") {
        if (instruction.numOperands == Instruction::kMaxOperands)
          fail(currentLine, "too many operands in '" + currentText + "'");
        instruction.operands[instruction.numOperands] =
            parseOperand(instruction, instruction.numOperands);
        ++instruction.numOperands;
        if (!accept(",") && !accept("|"))
          break;
      }
    }
    expect(";");
    validate(instruction);
    kernel->code.push_back(instruction);
  }

  [[noreturn]] void unsupported(const std::string &what) {
    fail(currentLine, "unsupported " + what + " in '" + currentText + "'");
  }

  void decodeOpcode(const std::vector<std::string> &parts,
                    Instruction &instruction) {
    static const std::map<std::string, Opcode> opcodes = {
        {"mov", Opcode::Mov},
        {"ld", Opcode::Ld},
        {"st", Opcode::St},
        {"cvta", Opcode::Cvta},
        {"cvt", Opcode::Cvt},
        {"add", Opcode::Add},
        {"sub", Opcode::Sub},
        {"mul", Opcode::Mul},
        {"mad", Opcode::Mad},
        {"fma", Opcode::Fma},
        {"div", Opcode::Div},
        {"rem", Opcode::Rem},
        {"abs", Opcode::Abs},
        {"neg", Opcode::Neg},
        {"min", Opcode::Min},
        {"max", Opcode::Max},
        {"rcp", Opcode::Rcp},
        {"sqrt", Opcode::Sqrt},
        {"rsqrt", Opcode::Rsqrt},
        {"ex2", Opcode::Ex2},
        {"lg2", Opcode::Lg2},
        {"sin", Opcode::Sin},
        {"cos", Opcode::Cos},
        {"tanh", Opcode::Tanh},
        {"and", Opcode::And},
        {"or", Opcode::Or},
        {"xor", Opcode::Xor},
        {"not", Opcode::Not},
        {"shl", Opcode::Shl},
        {"shr", Opcode::Shr},
        {"bfe", Opcode::Bfe},
        {"popc", Opcode::Popc},
        {"clz", Opcode::Clz},
        {"setp", Opcode::Setp},
        {"selp", Opcode::Selp},
        {"bra", Opcode::Bra},
        {"ret", Opcode::Ret},
        {"exit", Opcode::Exit},
        {"bar", Opcode::BarSync},
        {"barrier", Opcode::BarSync},
        {"shfl", Opcode::Shfl},
        {"vote", Opcode::Vote},
        {"membar", Opcode::Fence},
        {"fence", Opcode::Fence},
        {"ldmatrix", Opcode::Ldmatrix},
        {"mma", Opcode::Mma},
        {"cp", Opcode::CpAsync}};
    auto found = opcodes.find(parts[0]);
    if (found == opcodes.end())
      fail(currentLine, "unsupported instruction '" + currentText + "'");
    instruction.opcode = found->second;
    switch (instruction.opcode) {
    case Opcode::Ldmatrix:
      return decodeLdmatrix(parts, instruction);
    case Opcode::Mma:
      return decodeMma(parts, instruction);
    case Opcode::CpAsync:
      return decodeCpAsync(parts, instruction);
    default:
      break;
    }
    static const std::map<std::string, Compare> compares = {
        {"eq", Compare::Eq},   {"ne", Compare::Ne},   {"lt", Compare::Lt},
        {"le", Compare::Le},   {"gt", Compare::Gt},   {"ge", Compare::Ge},
        {"lo", Compare::Lo},   {"ls", Compare::Ls},   {"hi", Compare::Hi},
        {"hs", Compare::Hs},   {"equ", Compare::Equ}, {"neu", Compare::Neu},
        {"ltu", Compare::Ltu}, {"leu", Compare::Leu}, {"gtu", Compare::Gtu},
        {"geu", Compare::Geu}, {"num", Compare::Num}, {"nan", Compare::Nan}};
    static const std::map<std::string, Rounding> roundings = {
        {"rn", Rounding::Rn},   {"rna", Rounding::Rna}, {"rz", Rounding::Rz},
        {"rm", Rounding::Rm},   {"rp", Rounding::Rp},   {"rni", Rounding::Rni},
        {"rzi", Rounding::Rzi}, {"rmi", Rounding::Rmi}, {"rpi", Rounding::Rpi}};
    static const std::map<std::string, Space> spaces = {
        {"global", Space::Global},      {"shared", Space::Shared},
        {"shared::cta", Space::Shared}, {"param", Space::Param},
        {"local", Space::Local},        {"const", Space::Const}};
    std::vector<Type> types;
    bool hasCompare = false;
    Opcode op = instruction.opcode;
    for (size_t i = 1; i < parts.size(); ++i) {
      const std::string &part = parts[i];
      if (auto type = typeNames().find(part); type != typeNames().end()) {
        types.push_back(type->second);
      } else if (auto space = spaces.find(part);
                 space != spaces.end() &&
                 (op == Opcode::Ld || op == Opcode::St || op == Opcode::Cvta)) {
        instruction.space = space->second;
      } else if (auto compare = compares.find(part);
                 compare != compares.end() && op == Opcode::Setp &&
                 !hasCompare) {
        instruction.compare = compare->second;
        hasCompare = true;
      } else if (auto rounding = roundings.find(part);
                 rounding != roundings.end()) {
        instruction.rounding = rounding->second;
      } else if (part == "ftz") {
        instruction.ftz = true;
      } else if (part == "sat") {
        instruction.saturate = true;
      } else if (part == "approx") {
        instruction.approx = true;
      } else if (part == "full" && op == Opcode::Div) {
        instruction.approx = true; // div.full: within 2 ulp, like .approx
      } else if (part == "NaN" && (op == Opcode::Min || op == Opcode::Max)) {
        instruction.propagateNan = true;
      } else if ((part == "lo" || part == "hi" || part == "wide") &&
                 (op == Opcode::Mul || op == Opcode::Mad)) {
        instruction.mulMode = part == "lo"   ? MulMode::Lo
                              : part == "hi" ? MulMode::Hi
                                             : MulMode::Wide;
      } else if ((part == "and" || part == "or" || part == "xor") &&
                 op == Opcode::Setp) {
        instruction.boolOp = part == "and"  ? BoolOp::And
                             : part == "or" ? BoolOp::Or
                                            : BoolOp::Xor;
      } else if (part == "to" && op == Opcode::Cvta) {
        instruction.opcode = Opcode::CvtaTo;
      } else if ((part == "v2" || part == "v4") &&
                 (op == Opcode::Ld || op == Opcode::St)) {
        instruction.vectorWidth = uint8_t(part[1] - '0');
      } else if ((op == Opcode::Ld || op == Opcode::St) &&
                 (part == "nc" || part == "ca" || part == "cg" ||
                  part == "cs" || part == "lu" || part == "cv" ||
                  part == "wb" || part == "wt" || part == "volatile" ||
                  part == "weak")) {
        // Cache and ordering hints: no effect on a sequential memory.
      } else if (part == "uni" && op == Opcode::Bra) {
      } else if (op == Opcode::BarSync &&
                 (part == "sync" || part == "cta" || part == "aligned")) {
      } else if (op == Opcode::BarSync && part == "warp") {
        instruction.opcode = Opcode::BarWarpSync;
      } else if (op == Opcode::Shfl &&
                 (part == "up" || part == "down" || part == "bfly" ||
                  part == "idx" || part == "sync")) {
        if (part != "sync")
          instruction.shflMode = part == "up"     ? ShflMode::Up
                                 : part == "down" ? ShflMode::Down
                                 : part == "bfly" ? ShflMode::Bfly
                                                  : ShflMode::Idx;
      } else if (op == Opcode::Vote &&
                 (part == "all" || part == "any" || part == "uni" ||
                  part == "ballot" || part == "sync")) {
        if (part != "sync")
          instruction.voteMode = part == "all"   ? VoteMode::All
                                 : part == "any" ? VoteMode::Any
                                 : part == "uni" ? VoteMode::Uni
                                                 : VoteMode::Ballot;
      } else if (op == Opcode::Fence &&
                 (part == "cta" || part == "gl" || part == "sys" ||
                  part == "gpu" || part == "sc" || part == "acq_rel")) {
      } else {
        unsupported("modifier '." + part + "'");
      }
    }
    if ((op == Opcode::Shfl || op == Opcode::Vote) &&
        currentText.find(".sync") == std::string::npos)
      unsupported("pre-Volta form (without .sync)");
    if (op == Opcode::BarSync && instruction.opcode == Opcode::BarSync &&
        parts.size() >= 2 && parts[0] == "bar" && parts[1] != "sync" &&
        parts[1] != "warp")
      unsupported("barrier form");
    // Types: cvt and setp/selp-like forms name a second type.
    if (instruction.opcode == Opcode::Cvt) {
      if (types.size() != 2)
        unsupported("cvt without a destination and a source type");
      instruction.type = types[0];
      instruction.sourceType = types[1];
    } else if (types.size() == 1) {
      instruction.type = types[0];
    } else if (types.size() > 1) {
      unsupported("type list");
    }
    if (op == Opcode::Setp)
      instruction.sourceType = instruction.type;
  }

  /// Reads the modifiers of a tensor-core or cp.async opcode in their fixed
  /// order: every one of them changes what the instruction does, so none is
  /// skipped.
  class Modifiers {
  public:
    explicit Modifiers(const std::vector<std::string> &parts) : parts(parts) {}
    bool take(const char *part) {
      if (position < parts.size() && parts[position] == part) {
        ++position;
        return true;
      }
      return false;
    }
    /// The next modifier as a type, or None.
    Type takeType() {
      if (position < parts.size())
        if (auto type = typeNames().find(parts[position]);
            type != typeNames().end()) {
          ++position;
          return type->second;
        }
      return Type::None;
    }
    bool done() const { return position == parts.size(); }

  private:
    const std::vector<std::string> &parts;
    size_t position = 1;
  };

  /// ldmatrix.sync.aligned.m8n8.{x1,x2,x4}{.trans}{.shared{::cta}}.b16
  void decodeLdmatrix(const std::vector<std::string> &parts,
                      Instruction &instruction) {
    Modifiers modifiers(parts);
    if (!modifiers.take("sync") || !modifiers.take("aligned") ||
        !modifiers.take("m8n8"))
      unsupported("form (ldmatrix.sync.aligned.m8n8 is implemented)");
    if (modifiers.take("x1"))
      instruction.vectorWidth = 1;
    else if (modifiers.take("x2"))
      instruction.vectorWidth = 2;
    else if (modifiers.take("x4"))
      instruction.vectorWidth = 4;
    else
      unsupported("matrix count");
    instruction.transpose = modifiers.take("trans");
    if (modifiers.take("shared") || modifiers.take("shared::cta"))
      instruction.space = Space::Shared;
    instruction.type = modifiers.takeType();
    if (instruction.type != Type::B16 || !modifiers.done())
      unsupported("form (the .b16 element type is implemented)");
  }

  /// mma.sync.aligned.{m16n8k16,m16n8k8}.row.col.dtype.atype.btype.ctype
  /// with f16, bf16 or (k8) tf32 inputs.
  void decodeMma(const std::vector<std::string> &parts,
                 Instruction &instruction) {
    Modifiers modifiers(parts);
    if (!modifiers.take("sync") || !modifiers.take("aligned"))
      unsupported("form without .sync.aligned");
    if (modifiers.take("m16n8k16"))
      instruction.mmaK = 16;
    else if (modifiers.take("m16n8k8"))
      instruction.mmaK = 8;
    else
      unsupported("shape (m16n8k16 and m16n8k8 are implemented)");
    if (!modifiers.take("row") || !modifiers.take("col"))
      unsupported("layout (.row.col is implemented)");
    Type d = modifiers.takeType(), a = modifiers.takeType();
    Type b = modifiers.takeType(), c = modifiers.takeType();
    if (!modifiers.done() || a != b)
      unsupported("type combination");
    // f16 products accumulate in f16 or f32 (C and D each), bf16 and tf32
    // (k8 only) products in f32.
    auto f16OrF32 = [](Type type) {
      return type == Type::F16 || type == Type::F32;
    };
    bool valid =
        a == Type::F16
            ? f16OrF32(d) && f16OrF32(c)
            : (a == Type::BF16 || (a == Type::TF32 && instruction.mmaK == 8)) &&
                  d == Type::F32 && c == Type::F32;
    if (!valid)
      unsupported("type combination");
    instruction.type = d;
    instruction.sourceType = a;
    instruction.accumulatorType = c;
  }

  /// cp.async.{ca,cg}.shared{::cta}.global{.L2::prefetch_size},
  /// cp.async.commit_group, cp.async.wait_group, cp.async.wait_all.
  void decodeCpAsync(const std::vector<std::string> &parts,
                     Instruction &instruction) {
    Modifiers modifiers(parts);
    if (!modifiers.take("async"))
      fail(currentLine, "unsupported instruction '" + currentText + "'");
    if (modifiers.take("commit_group"))
      instruction.opcode = Opcode::CpAsyncCommit;
    else if (modifiers.take("wait_group"))
      instruction.opcode = Opcode::CpAsyncWaitGroup;
    else if (modifiers.take("wait_all"))
      instruction.opcode = Opcode::CpAsyncWaitAll;
    if (instruction.opcode != Opcode::CpAsync) {
      if (!modifiers.done())
        unsupported("form");
      return;
    }
    asyncCopyBypassesL1 = modifiers.take("cg");
    if (!asyncCopyBypassesL1 && !modifiers.take("ca"))
      fail(currentLine, "unsupported instruction '" + currentText + "'");
    if (!(modifiers.take("shared") || modifiers.take("shared::cta")) ||
        !modifiers.take("global"))
      unsupported("state spaces (.shared.global is implemented)");
    instruction.space = Space::Shared;
    // Prefetch sizes are performance hints.
    if (!modifiers.take("L2::64B") && !modifiers.take("L2::128B"))
      modifiers.take("L2::256B");
    if (!modifiers.done())
      unsupported("modifier");
  }

  Operand parseOperand(const Instruction &instruction, unsigned index) {
    Operand operand;
    const Token &token = peek();
    if (accept("[")) {
      operand.kind = Operand::Address;
      parseAddress(operand, instruction, index);
      expect("]");
      return operand;
    }
    if (accept("{")) {
      operand.kind = Operand::Vector;
      operand.reg = int32_t(kernel->vectorRegisters.size());
      do {
        const Token &element = next();
        int32_t index;
        if (element.kind == Token::Number) {
          // An immediate element (LLVM stores zeros so) gets a register of
          // its own that holds it.
          uint64_t bits;
          bool isFloatBits;
          if (!parseNumber(element.text, bits, isFloatBits))
            fail(element.line, "bad number '" + element.text + "'");
          index = int32_t(nextRegister++);
          kernel->constantRegisters.push_back({index, bits});
        } else {
          index = element.text == "_" ? -1 : registerIndex(element);
        }
        kernel->vectorRegisters.push_back(index);
        ++operand.count;
      } while (accept(","));
      expect("}");
      return operand;
    }
    if (accept("!")) {
      operand.kind = Operand::NotRegister;
      operand.reg = registerIndex(next());
      return operand;
    }
    bool negative = accept("-");
    if (peek().kind == Token::Number) {
      uint64_t bits;
      bool isFloatBits;
      const std::string &number = next().text;
      if (!parseNumber(number, bits, isFloatBits))
        fail(token.line, "bad number '" + number + "'");
      if (negative) {
        bool isDouble = number[1] == 'd' || number[1] == 'D';
        if (isFloatBits)
          bits ^= isDouble ? 0x8000000000000000ull : 0x80000000ull;
        else
          bits = uint64_t(-int64_t(bits));
      }
      operand.kind = Operand::Immediate;
      operand.bits = bits;
      return operand;
    }
    if (negative)
      fail(token.line, "unsupported negated operand '" + token.text + "'");
    const Token &word = next();
    if (word.text == "_") {
      operand.kind = Operand::Sink;
      return operand;
    }
    static const std::map<std::string, SpecialRegister> specials = {
        {"%tid.x", TidX},       {"%tid.y", TidY},       {"%tid.z", TidZ},
        {"%ntid.x", NtidX},     {"%ntid.y", NtidY},     {"%ntid.z", NtidZ},
        {"%ctaid.x", CtaidX},   {"%ctaid.y", CtaidY},   {"%ctaid.z", CtaidZ},
        {"%nctaid.x", NctaidX}, {"%nctaid.y", NctaidY}, {"%nctaid.z", NctaidZ},
        {"%laneid", LaneId},    {"%warpid", WarpId},    {"%nwarpid", NWarpId}};
    if (auto special = specials.find(word.text); special != specials.end()) {
      operand.kind = Operand::Special;
      operand.special = special->second;
      return operand;
    }
    // Registers declared in a nested block may be named without '%'
    // (LLVM's `{ .reg .b16 tmp; mov.b32 {tmp, %rs1}, %r1; }`).
    if (auto found = registers.find(word.text); found != registers.end()) {
      operand.kind = Operand::Register;
      operand.reg = found->second;
      return operand;
    }
    if (!word.text.empty() && word.text[0] == '%')
      fail(word.line,
           "unsupported register or special register '" + word.text + "'");
    // A symbol used as a value: its address (mov, cvta).
    operand.kind = Operand::Immediate;
    resolveSymbol(word, operand, index);
    return operand;
  }

  /// `[reg]`, `[reg+imm]`, `[symbol]`, `[symbol+imm]`, `[imm]`.
  void parseAddress(Operand &operand, const Instruction &instruction,
                    unsigned index) {
    const Token &base = next();
    if (base.kind == Token::Number) {
      uint64_t bits;
      bool isFloatBits;
      parseNumber(base.text, bits, isFloatBits);
      operand.bits = bits;
    } else if (!base.text.empty() && base.text[0] == '%') {
      operand.reg = registerIndex(base);
    } else {
      resolveSymbol(base, operand, index);
      if (instruction.space == Space::Generic && symbolIsShared)
        fail(base.line, "generic access to the shared symbol '" + base.text +
                            "' is not supported");
    }
    if (accept("+")) {
      bool negative = accept("-");
      uint64_t offset = expectInteger();
      operand.bits += negative ? uint64_t(-int64_t(offset)) : offset;
    } else if (accept("-")) {
      operand.bits -= expectInteger();
    }
  }

  /// Parameters resolve to their offset in the parameter buffer; shared
  /// variables to their offset in the block's shared memory (after layout).
  void resolveSymbol(const Token &token, Operand &operand, unsigned index) {
    symbolIsShared = false;
    for (const Parameter &parameter : kernel->parameters)
      if (parameter.name == token.text) {
        operand.bits = parameter.offset;
        return;
      }
    auto isShared = [&](const std::vector<SharedVariable> &variables) {
      for (const SharedVariable &variable : variables)
        if (variable.name == token.text)
          return true;
      return false;
    };
    if (isShared(localShared) || isShared(moduleShared)) {
      symbolIsShared = true;
      sharedSymbolUses.push_back(
          {kernel->code.size(), index, token.text, token.line});
      return;
    }
    fail(token.line, "unknown symbol '" + token.text + "'");
  }

  /// Operand kinds and types each opcode needs, and its cost class.
  void validate(Instruction &instruction) {
    auto need = [&](unsigned count) {
      if (instruction.numOperands != count)
        fail(currentLine, "'" + currentText + "' takes " +
                              std::to_string(count) + " operands");
    };
    auto needType = [&] {
      if (instruction.type == Type::None)
        unsupported("instruction without a type");
    };
    bool f32 = instruction.type == Type::F32;
    InstructionClass &cost = instruction.cost;
    switch (instruction.opcode) {
    case Opcode::Mov:
    case Opcode::Not:
    case Opcode::Popc:
    case Opcode::Clz:
      need(2), needType();
      cost = InstructionClass::Integer;
      break;
    case Opcode::Ld:
    case Opcode::St: {
      need(2), needType();
      const Operand &address =
          instruction.operands[instruction.opcode == Opcode::Ld ? 1 : 0];
      if (address.kind != Operand::Address)
        unsupported("memory operand");
      if (instruction.space == Space::Local ||
          instruction.space == Space::Const)
        unsupported("state space");
      if (instruction.space == Space::Param && instruction.opcode == Opcode::St)
        unsupported("store to .param");
      cost = InstructionClass::Memory;
      break;
    }
    case Opcode::Cvta:
    case Opcode::CvtaTo:
      need(2), needType();
      if (instruction.space != Space::Global &&
          instruction.space != Space::Shared)
        unsupported("state space");
      cost = InstructionClass::Conversion;
      break;
    case Opcode::Cvt:
      validateConvert(instruction);
      cost = InstructionClass::Conversion;
      break;
    case Opcode::Add:
    case Opcode::Sub:
    case Opcode::Mul:
    case Opcode::Min:
    case Opcode::Max:
    case Opcode::And:
    case Opcode::Or:
    case Opcode::Xor:
    case Opcode::Shl:
    case Opcode::Shr:
    case Opcode::Rem:
      need(3), needType();
      cost = f32 ? InstructionClass::Fp32Alu : InstructionClass::Integer;
      break;
    case Opcode::Div:
      need(3), needType();
      cost =
          f32 ? InstructionClass::SpecialFunction : InstructionClass::Integer;
      break;
    case Opcode::Abs:
    case Opcode::Neg:
      need(2), needType();
      cost = f32 ? InstructionClass::Fp32Alu : InstructionClass::Integer;
      break;
    case Opcode::Mad:
    case Opcode::Fma:
      need(4), needType();
      cost = f32 ? InstructionClass::Fp32Fma : InstructionClass::Integer;
      break;
    case Opcode::Rcp:
    case Opcode::Sqrt:
    case Opcode::Rsqrt:
    case Opcode::Ex2:
    case Opcode::Lg2:
    case Opcode::Sin:
    case Opcode::Cos:
    case Opcode::Tanh:
      need(2), needType();
      if (!isFloat(instruction.type))
        unsupported("type");
      cost = InstructionClass::SpecialFunction;
      break;
    case Opcode::Bfe:
      need(4), needType();
      cost = InstructionClass::Integer;
      break;
    case Opcode::Setp:
      needType();
      if (instruction.numOperands !=
          (instruction.boolOp == BoolOp::None ? 3u : 4u))
        unsupported("operand list (two destinations?)");
      cost = f32 ? InstructionClass::Fp32Alu : InstructionClass::Integer;
      break;
    case Opcode::Selp:
      need(4), needType();
      cost = InstructionClass::Integer;
      break;
    case Opcode::Bra:
    case Opcode::Ret:
    case Opcode::Exit:
    case Opcode::Fence:
      cost = InstructionClass::Control;
      break;
    case Opcode::BarSync:
      if (instruction.numOperands != 1)
        unsupported("barrier with a thread count");
      cost = InstructionClass::Control;
      break;
    case Opcode::BarWarpSync:
      need(1);
      cost = InstructionClass::Control;
      kernel->usesWarpCollectives = true;
      break;
    case Opcode::Shfl:
      // d[|p], a, b, c, membermask: without the predicate destination, a
      // sink takes its place so that operands keep their positions.
      if (instruction.numOperands == 5) {
        for (unsigned i = 5; i > 1; --i)
          instruction.operands[i] = instruction.operands[i - 1];
        instruction.operands[1] = Operand{Operand::Sink};
        instruction.numOperands = 6;
      }
      if (instruction.numOperands != 6)
        unsupported("operand list");
      cost = InstructionClass::Control;
      kernel->usesWarpCollectives = true;
      break;
    case Opcode::Vote:
      need(3);
      cost = InstructionClass::Control;
      kernel->usesWarpCollectives = true;
      break;
    case Opcode::Ldmatrix:
      need(2);
      if (!isVector(instruction.operands[0], instruction.vectorWidth) ||
          instruction.operands[1].kind != Operand::Address)
        unsupported("operands (a vector of one register per matrix, then an "
                    "address)");
      cost = InstructionClass::Memory;
      kernel->usesWarpCollectives = true;
      break;
    case Opcode::Mma: {
      need(4);
      // Registers per fragment (PTX ISA, matrix fragments for mma.m16n8k*):
      // two 16-bit or one tf32 element per register.
      unsigned k = instruction.mmaK;
      bool tf32 = instruction.sourceType == Type::TF32;
      unsigned aRegisters = tf32 ? 4 : k / 4, bRegisters = tf32 ? 2 : k / 8;
      auto accumulators = [](Type type) { return type == Type::F32 ? 4u : 2u; };
      const Operand *operands = instruction.operands;
      if (!isVector(operands[0], accumulators(instruction.type)) ||
          !isVector(operands[1], aRegisters, /*sources=*/true) ||
          !isVector(operands[2], bRegisters, /*sources=*/true) ||
          !isVector(operands[3], accumulators(instruction.accumulatorType),
                    /*sources=*/true))
        unsupported("fragment registers");
      cost = InstructionClass::TensorCore;
      kernel->usesWarpCollectives = true;
      break;
    }
    case Opcode::CpAsync: {
      // [dst], [src], cp-size{, src-size}
      const Operand *operands = instruction.operands;
      if (instruction.numOperands < 3 || instruction.numOperands > 4 ||
          operands[0].kind != Operand::Address ||
          operands[1].kind != Operand::Address ||
          operands[2].kind != Operand::Immediate)
        unsupported("operands");
      uint64_t size = operands[2].bits;
      if (size != 4 && size != 8 && size != 16)
        unsupported("cp-size " + std::to_string(size));
      if (asyncCopyBypassesL1 && size != 16)
        unsupported(".cg with a cp-size other than 16");
      if (instruction.numOperands == 4) {
        const Operand &sourceSize = operands[3];
        if (sourceSize.kind == Operand::Register &&
            predicates.count(sourceSize.reg))
          unsupported("ignore-src predicate");
        if (sourceSize.kind == Operand::Immediate && sourceSize.bits > size)
          fail(currentLine, "src-size " + std::to_string(sourceSize.bits) +
                                " exceeds the cp-size in '" + currentText +
                                "'");
        if (sourceSize.kind != Operand::Immediate &&
            sourceSize.kind != Operand::Register)
          unsupported("src-size operand");
      }
      cost = InstructionClass::Memory;
      kernel->usesAsyncCopies = true;
      break;
    }
    case Opcode::CpAsyncCommit:
    case Opcode::CpAsyncWaitAll:
      need(0);
      cost = InstructionClass::Control;
      kernel->usesAsyncCopies = true;
      break;
    case Opcode::CpAsyncWaitGroup:
      need(1);
      if (instruction.operands[0].kind != Operand::Immediate)
        unsupported("group count (an integer constant)");
      cost = InstructionClass::Control;
      kernel->usesAsyncCopies = true;
      break;
    }
    if (instruction.rounding == Rounding::Rna &&
        !(instruction.opcode == Opcode::Cvt && instruction.type == Type::TF32))
      unsupported("rounding .rna");
    if ((instruction.type == Type::TF32 ||
         instruction.sourceType == Type::TF32) &&
        instruction.opcode != Opcode::Cvt && instruction.opcode != Opcode::Mma)
      unsupported("type .tf32");
    // Floating-point arithmetic exists for f32 and f64 only (f16/bf16
    // arithmetic is not implemented yet).
    switch (instruction.opcode) {
    case Opcode::Add:
    case Opcode::Sub:
    case Opcode::Mul:
    case Opcode::Fma:
    case Opcode::Mad:
    case Opcode::Div:
    case Opcode::Min:
    case Opcode::Max:
    case Opcode::Abs:
    case Opcode::Neg:
    case Opcode::Setp:
    case Opcode::Rcp:
    case Opcode::Sqrt:
    case Opcode::Rsqrt:
    case Opcode::Ex2:
    case Opcode::Lg2:
    case Opcode::Sin:
    case Opcode::Cos:
    case Opcode::Tanh:
      if (isFloat(instruction.type) && instruction.type != Type::F32 &&
          instruction.type != Type::F64)
        unsupported("type ." + std::string(name(instruction.type)));
      if (instruction.type == Type::F64 && instruction.approx &&
          instruction.opcode != Opcode::Rcp &&
          instruction.opcode != Opcode::Rsqrt)
        unsupported(".approx.f64 form");
      break;
    default:
      break;
    }
    if (instruction.saturate && instruction.opcode != Opcode::Cvt &&
        !(f32 && (instruction.opcode == Opcode::Add ||
                  instruction.opcode == Opcode::Sub ||
                  instruction.opcode == Opcode::Mul ||
                  instruction.opcode == Opcode::Fma ||
                  instruction.opcode == Opcode::Mad)))
      unsupported(".sat");
    if (instruction.opcode == Opcode::Mad && !isFloat(instruction.type) &&
        instruction.mulMode == MulMode::Default)
      unsupported("mad without .lo, .hi or .wide");
  }

  /// Whether `operand` is a vector of `count` registers; `sources` also
  /// refuses sinks.
  bool isVector(const Operand &operand, unsigned count,
                bool sources = false) const {
    if (operand.kind != Operand::Vector || operand.count != count)
      return false;
    for (unsigned i = 0; i < count && sources; ++i)
      if (kernel->vectorRegisters[operand.reg + i] < 0)
        return false;
    return true;
  }

  /// The cvt forms: one source converted to the destination type, or two
  /// f32 sources packed into .f16x2/.bf16x2.
  void validateConvert(const Instruction &instruction) {
    Type to = instruction.type, from = instruction.sourceType;
    bool packed = to == Type::F16x2 || to == Type::BF16x2;
    if (instruction.numOperands != (packed ? 3u : 2u))
      fail(currentLine, "'" + currentText + "' takes " +
                            std::to_string(packed ? 3 : 2) + " operands");
    if (from == Type::F16x2 || from == Type::BF16x2 || from == Type::TF32 ||
        ((packed || to == Type::TF32) && from != Type::F32))
      unsupported("conversion");
    if (to == Type::TF32 && instruction.rounding != Rounding::Rna &&
        instruction.rounding != Rounding::Rn &&
        instruction.rounding != Rounding::Rz)
      unsupported("rounding to .tf32");
    // f32ToF16 and f32ToBf16 round to nearest even only.
    bool half = packed || to == Type::F16 || to == Type::BF16;
    if (half && from != to &&
        (instruction.rounding == Rounding::Rz ||
         instruction.rounding == Rounding::Rm ||
         instruction.rounding == Rounding::Rp))
      unsupported("rounding to a 16-bit float (only .rn is implemented)");
  }

  std::vector<Token> tokens;
  size_t position = 0;
  Module *module = nullptr;
  Kernel *kernel = nullptr;
  std::string currentText;
  unsigned currentLine = 0;
  std::map<std::string, int32_t> registers;
  std::set<int32_t> predicates; ///< the .pred registers among them
  uint32_t nextRegister = 0;
  std::map<std::string, uint32_t> labels;
  std::vector<PendingBranch> branches;
  std::vector<SharedVariable> moduleShared, localShared;
  std::map<std::string, uint32_t> sharedOffsets;
  struct SharedSymbolUse {
    size_t instruction;
    unsigned operand;
    std::string symbol;
    unsigned line;
  };
  std::vector<SharedSymbolUse> sharedSymbolUses;
  bool symbolIsShared = false;
  /// Whether the cp.async being decoded is .cg (which copies 16 bytes only).
  bool asyncCopyBypassesL1 = false;
};

} // namespace

std::unique_ptr<Module> parsePtx(const std::string &text, std::string &error) {
  try {
    return Parser(text).parse();
  } catch (const ParseError &failure) {
    error = failure.what();
    return nullptr;
  }
}

} // namespace vitc::emulator
