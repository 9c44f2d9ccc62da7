# Writes the bytes of INPUT to OUTPUT as "0x..," initializers, for
#   const char bytes[] = {
#   #include "OUTPUT"
#   };
# Hex bytes rather than a string literal: any content is safe and no compiler
# string-length limit applies.
file(READ "${INPUT}" bytes HEX)
string(REGEX REPLACE "(..)" "0x\\1," bytes "${bytes}")
file(WRITE "${OUTPUT}" "${bytes}\n")
