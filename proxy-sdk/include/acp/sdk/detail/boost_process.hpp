#pragma once
// Boost.Process v2 as we use it (std::filesystem, separately compiled in acp_proxy_sdk).
// Boost 1.81's headers with BOOST_PROCESS_USE_STD_FS miss a few includes; supply them first.
#include <boost/optional.hpp>
#include <boost/type_traits/is_constructible.hpp>
#include <boost/type_traits/remove_pointer.hpp>
#include <type_traits>

#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/posix/default_launcher.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>
