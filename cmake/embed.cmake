# wfp_embed_lua(OUT_VAR file...)
# Turns each Lua file into a C string constant `wfp_lua_<name>` in one
# generated source file, so scripts live as plain .lua files in the tree and
# ship inside the binaries.
function(wfp_embed_lua out_var)
  set(out_c ${CMAKE_BINARY_DIR}/generated/wfp_lua.c)
  string(REPLACE ";" "|" files_arg "${ARGN}")
  add_custom_command(
    OUTPUT ${out_c}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_c} "-DFILES=${files_arg}"
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
    DEPENDS ${ARGN} ${CMAKE_SOURCE_DIR}/cmake/embed_run.cmake
    COMMENT "Embedding Lua scripts"
    VERBATIM)
  set(${out_var} ${out_c} PARENT_SCOPE)
endfunction()
