# Script (cmake -P) that writes the installed copy of the public headers: the same text with every
# repository-rooted include ("storage/serde.hpp") turned into <ember/storage/serde.hpp>, so that
# installed headers need only PREFIX/include on the include path and never pick up an
# application's own storage/ or api/ folder. api/ember.hpp becomes include/ember/ember.hpp.
# Variables: SOURCE_DIR (the repository), OUTPUT_DIR (gets ember/...), HEADERS (paths rooted at
# the repository, ';'-separated).
foreach(header IN LISTS HEADERS)
  file(READ ${SOURCE_DIR}/${header} text)
  string(REGEX REPLACE "#include \"([a-z_]+/[a-z_0-9]+\\.hpp)\"" "#include <ember/\\1>" text "${text}")
  if(header STREQUAL "api/ember.hpp")
    set(out ${OUTPUT_DIR}/ember/ember.hpp)
  else()
    set(out ${OUTPUT_DIR}/ember/${header})
  endif()
  file(WRITE ${out} "${text}")
endforeach()
