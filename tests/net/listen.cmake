# The listener's tests (net/src/listen*.cpp, idle_timeout.cpp, prefixed_transport.cpp), included
# by tests/net/CMakeLists.txt (which defines acp_net_test_support and the npm fixture net_node).
#   acp_net_listen_tests       C++ clients only (raw sockets, Beast, Asio SSL); label unit
#   acp_net_listen_node_tests  independent clients: the `ws` package and Node's `tls` (js/listen_*.mjs)
find_package(OpenSSL REQUIRED)
add_executable(acp_net_listen_tests ${CMAKE_CURRENT_LIST_DIR}/listen_test.cpp ${CMAKE_CURRENT_LIST_DIR}/listen_ws_test.cpp)
target_link_libraries(acp_net_listen_tests PRIVATE acp_net_test_support OpenSSL::SSL OpenSSL::Crypto GTest::gtest_main)
acp_target_defaults(acp_net_listen_tests)
gtest_discover_tests(acp_net_listen_tests DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120 LABELS unit)

add_executable(acp_net_listen_node_tests ${CMAKE_CURRENT_LIST_DIR}/listen_node_test.cpp)
target_link_libraries(acp_net_listen_node_tests PRIVATE acp_net_test_support OpenSSL::SSL OpenSSL::Crypto GTest::gtest_main)
acp_target_defaults(acp_net_listen_node_tests)
gtest_discover_tests(acp_net_listen_node_tests DISCOVERY_TIMEOUT 60
  PROPERTIES TIMEOUT 120 LABELS net FIXTURES_REQUIRED net_node)
