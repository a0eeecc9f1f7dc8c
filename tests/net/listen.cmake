# The listener's tests (net/src/listen*.cpp, idle_timeout.cpp, prefixed_transport.cpp), included
# by tests/net/CMakeLists.txt. acp_net_listen_tests: C++ clients only (label unit).
find_package(OpenSSL REQUIRED)
add_executable(acp_net_listen_tests ${CMAKE_CURRENT_LIST_DIR}/listen_test.cpp ${CMAKE_CURRENT_LIST_DIR}/listen_ws_test.cpp)
target_include_directories(acp_net_listen_tests PRIVATE ${PROJECT_SOURCE_DIR}/net/src)
target_link_libraries(acp_net_listen_tests PRIVATE acp::net OpenSSL::SSL OpenSSL::Crypto GTest::gtest GTest::gtest_main)
acp_target_defaults(acp_net_listen_tests)
gtest_discover_tests(acp_net_listen_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120 LABELS unit)
