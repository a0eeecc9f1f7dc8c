// The one translation unit that compiles Asio's SSL layer (separate compilation, as
// proxy-sdk/src/asio_impl.cpp does for the rest of Asio).
#include <boost/asio/ssl/impl/src.hpp>
