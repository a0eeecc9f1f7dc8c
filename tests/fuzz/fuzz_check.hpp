#pragma once
// Invariant checks for the fuzz targets: a failed check prints what and where, then aborts, which
// libFuzzer reports as a crash and saves the input.
#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(cond, what)                                                                                         \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n  %s\n", __FILE__, __LINE__, #cond,                        \
                   std::string(what).c_str());                                                                         \
      std::abort();                                                                                                    \
    }                                                                                                                  \
  } while (0)
