# `cpack -G DEB` in a build tree: one Debian package, `acp-conductor`, holding everything the
# install rules install: the programs (acp-conductor, acp-mcp-bridge, acp-test-agent, acp-prompt
# and the example proxies), their man pages, and the SDK for building proxies (headers, static
# libraries, the CMake package `find_package(acp)` and the pkg-config file `acp.pc`).
# scripts/deb_roundtrip.sh builds it, installs it with dpkg, runs the demo chain from /usr/bin and
# removes it again; CI runs that (scripts/test.sh).
#
# One package, not a runtime/-dev split: the SDK is a few static libraries and headers, small
# next to the programs, and a proxy author wants both. So:
#   Depends    what the programs load at run time (libboost-json1.81.0, libssl3, libre2-9 for the
#              redact proxy, libstdc++6, libc6, ...): computed by dpkg-shlibdeps from the
#              binaries when it is installed (dpkg-dev), else the list below.
#   Recommends what building against the SDK needs (the headers include Boost.Asio, Boost.JSON
#              and OpenSSL; acpConfig.cmake finds Boost 1.81 and OpenSSL): the -dev packages.
#              Recommended, not required: running a chain does not need a compiler's headers.

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "acp-conductor")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "acp-conductor maintainers")
set(CPACK_PACKAGE_CONTACT "acp-conductor maintainers <maintainers@acp-conductor.invalid>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Agent Client Protocol conductor: runs chains of ACP proxies in front of an agent")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
acp-conductor runs a chain of Agent Client Protocol (ACP) components - proxies,
then an agent - and routes JSON-RPC messages between them over stdio, so that
an editor sees one agent. Included: the conductor, the MCP bridge, a test
agent, a command-line client and example proxies with their man pages, and a
C++20 SDK for writing proxies (headers, static libraries, CMake package and
pkg-config file).")
set(CPACK_DEBIAN_PACKAGE_SECTION "devel")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # acp-conductor_<version>_<arch>.deb
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

find_program(ACP_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(ACP_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  # The same as dpkg-shlibdeps finds on Debian 12 for a RelWithDebInfo build.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libboost-json1.81.0 (>= 1.81.0), libc6 (>= 2.34), libgcc-s1 (>= 3.0), libre2-9, libssl3 (>= 3.0.0), libstdc++6 (>= 12)")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libboost1.81-dev, libboost-json1.81-dev, libssl-dev, cmake, pkg-config")

include(CPack)
