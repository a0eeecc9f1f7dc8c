#include <acp/protocol/rpc_error.hpp>

#include <boost/json/object.hpp>

namespace acp {

rpc_error rpc_error::parse_error(std::string message, std::optional<boost::json::value> data) {
  return {error_codes::parse_error, std::move(message), std::move(data)};
}
rpc_error rpc_error::invalid_request(std::string message, std::optional<boost::json::value> data) {
  return {error_codes::invalid_request, std::move(message), std::move(data)};
}
rpc_error rpc_error::method_not_found(std::string_view method) {
  boost::json::object data;
  data["method"] = method;
  return {error_codes::method_not_found, "Method not found: " + std::string(method),
          boost::json::value(std::move(data))};
}
rpc_error rpc_error::invalid_params(std::string message, std::optional<boost::json::value> data) {
  return {error_codes::invalid_params, std::move(message), std::move(data)};
}
rpc_error rpc_error::internal_error(std::string message, std::optional<boost::json::value> data) {
  return {error_codes::internal_error, std::move(message), std::move(data)};
}
rpc_error rpc_error::request_cancelled(std::string message) {
  return {error_codes::request_cancelled, std::move(message), std::nullopt};
}
rpc_error rpc_error::auth_required(std::string message) {
  return {error_codes::auth_required, std::move(message), std::nullopt};
}
rpc_error rpc_error::resource_not_found(std::string message) {
  return {error_codes::resource_not_found, std::move(message), std::nullopt};
}

boost::json::object rpc_error::to_json() const {
  boost::json::object o;
  o["code"] = code;
  o["message"] = message;
  if (data) o["data"] = *data;
  return o;
}

std::optional<rpc_error> rpc_error::from_json(const boost::json::value& v) {
  const auto* o = v.if_object();
  if (!o) return std::nullopt;
  const auto* code = o->if_contains("code");
  if (!code || !code->is_int64()) return std::nullopt;
  if (code->as_int64() < INT32_MIN || code->as_int64() > INT32_MAX) return std::nullopt;
  rpc_error e;
  e.code = static_cast<int>(code->as_int64());
  if (const auto* m = o->if_contains("message"); m && m->is_string())
    e.message = std::string(m->as_string());
  else
    return std::nullopt;
  if (const auto* d = o->if_contains("data")) e.data = *d;
  return e;
}

} // namespace acp
