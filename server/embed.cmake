# embed.cmake - turns a text file into a C string constant at configure time:
#   embed_text(<input file> <output .c> <symbol>)
# defines `const char <symbol>[]` (NUL-terminated) and `const unsigned long
# <symbol>_len`. CMake re-runs when the input changes.
function(embed_text input output symbol)
  file(READ ${input} hex HEX)
  string(LENGTH "${hex}" n)
  math(EXPR len "${n} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n    " bytes "${bytes}")
  file(WRITE ${output}.tmp
    "/* generated from ${input} by server/embed.cmake; do not edit */\n"
    "const char ${symbol}[] = {\n    ${bytes}0x00};\n"
    "const unsigned long ${symbol}_len = ${len}UL;\n")
  file(COPY_FILE ${output}.tmp ${output} ONLY_IF_DIFFERENT)
  file(REMOVE ${output}.tmp)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${input})
endfunction()
