# same_bytes(A B OUTVAR): OUTVAR is TRUE when files A and B both exist and
# hold the same bytes, else FALSE. In the script's own process, where
# `cmake -E compare_files` started a cmake for every pair: 374 of them in a
# suite run, each ~30 ms of CPU (13 % of the suite's).
function(same_bytes a b outvar)
  set(${outvar} FALSE PARENT_SCOPE)
  foreach(f "${a}" "${b}")
    if(NOT EXISTS "${f}" OR IS_DIRECTORY "${f}")
      return()
    endif()
  endforeach()
  file(SIZE "${a}" size_a)
  file(SIZE "${b}" size_b)
  if(NOT size_a EQUAL size_b)
    return()
  endif()
  file(SHA256 "${a}" hash_a)
  file(SHA256 "${b}" hash_b)
  if(hash_a STREQUAL hash_b)
    set(${outvar} TRUE PARENT_SCOPE)
  endif()
endfunction()
