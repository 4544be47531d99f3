# Warnings for our own targets only: third-party headers stay quiet.
function(vil_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                         -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast
                         -Wcast-align -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
  if(VIL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
