# Compiles a text file into C++ as one string: cmake -DIN=file -DOUT=file.cc -DVAR=name -P this.
file(READ "${IN}" text)
if(text MATCHES "\\)kmodemu\"")
  message(FATAL_ERROR "${IN}: holds the raw string's delimiter")
endif()
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by embed_text.cmake; do not edit.\nnamespace kmodemu {\nextern const char ${VAR}[];\nconst char ${VAR}[] = R\"kmodemu(${text})kmodemu\";\n}  // namespace kmodemu\n")
file(RENAME "${OUT}.tmp" "${OUT}")
