// The one translation unit that compiles Asio and Boost.Process v2 (separate compilation).
// Asio's sources first: Boost.Process v2's need what they define (the order is not sorted).
#include <boost/asio/impl/src.hpp>

#include <acp/sdk/detail/boost_process.hpp>
#include <boost/process/v2/src.hpp>
