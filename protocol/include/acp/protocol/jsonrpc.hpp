#pragma once
// JSON-RPC 2.0 messages as ACP uses them.
//
// A `message` owns what it was read from and never re-creates it: forwarding a message forwards
// the same content, unknown members included. Accessors only read.
//
// Two forms, one behaviour. A message read from a line in the common shape (`jsonrpc`, `id`,
// `method`, and `params` or `result`; see `message::scan`) is kept as *text*: its id and method
// are decoded, its params or result stay the JSON text that arrived. Routing, re-wrapping and
// replacing the id then cost no parse and no re-serialization. Anything that needs the DOM
// (`json()`, `params()`, `result()`, ...) builds it on first use, once. Read through a const
// message, the text stays the message. Through a mutable one the DOM becomes the message, but the
// text is kept: while the DOM still says what the text said (it was only read, or only its id or
// method replaced), the message is written as the bytes it arrived as (`payload_text`); once it
// is edited, the DOM is written (`json_write.hpp`: numbers as people write them). Every other
// message is a DOM message from the start.
//
// Ids are integers, strings or null and are echoed with the same JSON type and value; use
// `id_key` (the id's JSON text) as the key of pending-request tables, so `1` and `"1"` differ.

#include <acp/protocol/json_scan.hpp>
#include <acp/protocol/rpc_error.hpp>
#include <acp/protocol/text_buffer.hpp>

#include <boost/json/object.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace acp::jsonrpc {

enum class message_kind { request, notification, response };

[[nodiscard]] std::string_view to_string(message_kind k) noexcept;

class message {
public:
  [[nodiscard]] message_kind kind() const noexcept { return kind_; }
  [[nodiscard]] bool is_request() const noexcept { return kind_ == message_kind::request; }
  [[nodiscard]] bool is_notification() const noexcept { return kind_ == message_kind::notification; }
  [[nodiscard]] bool is_response() const noexcept { return kind_ == message_kind::response; }

  /// The whole message as read (or built), unknown members included. Builds the DOM of a text
  /// message (once).
  [[nodiscard]] const boost::json::object& json() const;
  [[nodiscard]] boost::json::object& json();
  [[nodiscard]] boost::json::object release() &&;

  /// Method name of a request or notification; empty for a response.
  [[nodiscard]] std::string_view method() const noexcept;
  /// Id of a request or response; a null value for a notification.
  [[nodiscard]] const boost::json::value& id() const noexcept;
  /// Params of a request or notification; nullptr when absent or null.
  [[nodiscard]] const boost::json::value* params() const;
  [[nodiscard]] boost::json::value* params();

  /// Response accessors.
  [[nodiscard]] bool is_error() const noexcept;
  /// The `result` member (a null value when the response carries `"result": null`); nullptr for errors.
  [[nodiscard]] const boost::json::value* result() const;
  /// The error as a typed value; nullopt for a success response.
  [[nodiscard]] std::optional<rpc_error> error() const;

  /// Replaces the id (requests and responses only).
  void set_id(boost::json::value id);
  /// Makes a request or notification a request with this id.
  void make_request(boost::json::value id);
  /// Replaces the method (requests and notifications only).
  void set_method(std::string_view method);

  /// Appends the message as compact JSON (no newline).
  void write_to(std::string& out) const;

  /// Text form (see the top of this file): whether the message is its text (no mutable access
  /// has made the DOM the message).
  [[nodiscard]] bool is_text() const noexcept { return text_; }
  /// The params (request, notification) or result (response) as JSON text, as it arrived; empty
  /// when a request or notification has none. For a text message; and for a DOM message made
  /// from text whose DOM still says what the text said (only read, or only its id or method
  /// replaced), so that it is written as the bytes it arrived as. nullopt otherwise.
  [[nodiscard]] std::optional<std::string_view> payload_text() const noexcept {
    if (!text_ && !(original_ && unchanged())) return std::nullopt;
    if (payload_.offset + payload_.size > buf_.size()) return std::string_view(); // moved from
    return buf_.view().substr(payload_.offset, payload_.size);
  }

  /// The fast path of `line_parser`: `line` as a text message, or nullopt when it is not a
  /// message in the common shape (anything else: invalid, a batch, an error response, unknown
  /// members, escapes in keys, the method or a string id, ...). When it returns a message, the
  /// DOM path would have produced the same message (tests/fuzz/fuzz_json_scan.cpp).
  /// `max_depth` as for `line_parser`.
  /// `owner`, when given, is the buffer `line` lies in: a text message adopts it instead of
  /// copying the line (it is left as it is when nullopt is returned).
  [[nodiscard]] static std::optional<message> scan(std::string_view line, std::size_t max_depth = 512,
                                                   text_buffer* owner = nullptr);
  /// A text message from parts known to be valid: `payload` is JSON text (params: an object, an
  /// array or null, or empty for none; result: any value).
  [[nodiscard]] static message from_text(message_kind kind, boost::json::value id, std::string_view method,
                                         std::string_view payload);
  /// The same, the text given as one buffer and two spans into it (no copy).
  struct span {
    std::size_t offset = 0;
    std::size_t size = 0;
  };
  [[nodiscard]] static message from_text(message_kind kind, boost::json::value id, text_buffer buffer, span method,
                                         span payload);
  /// Text form: moves the buffer out (the message is left empty); for re-slicing with `from_text`.
  [[nodiscard]] text_buffer take_text_buffer() && { return std::move(buf_); }
  /// Text form with a payload: appends everything before the payload (`write_to` is this, the
  /// payload and `}`).
  void write_head(std::string& out) const;
  /// Text form: where the payload lies in the buffer.
  [[nodiscard]] span payload_span() const noexcept { return payload_; }
  /// Text form: all the bytes the spans point into (the line, or the buffer it was read into).
  [[nodiscard]] std::string_view text_bytes() const noexcept { return buf_.view(); }

  /// Text form from `scan`: the members of an object `params` (at most two, in order), recorded
  /// while the line was validated, so that an envelope is opened without scanning it again.
  /// nullopt when not known (more members, not an object, not made by `scan`, or changed since).
  [[nodiscard]] std::optional<std::size_t> scanned_params_members(std::span<json_scan::member> out) const noexcept;

  [[nodiscard]] static message request(boost::json::value id, std::string_view method,
                                       std::optional<boost::json::value> params = {});
  [[nodiscard]] static message notification(std::string_view method, std::optional<boost::json::value> params = {});
  [[nodiscard]] static message response(boost::json::value id, boost::json::value result);
  [[nodiscard]] static message error_response(boost::json::value id, const rpc_error& error);

  /// Unchecked construction from parts already known to be valid (used by the checker).
  message(message_kind kind, boost::json::object obj) noexcept : kind_(kind), obj_(std::move(obj)) {}

private:
  message() = default;
  message(message_kind kind, boost::json::value&& id, text_buffer&& buffer, span method, span payload) noexcept
      : kind_(kind), text_(true), buf_(std::move(buffer)), method_(method), payload_(payload) {
    if (kind != message_kind::notification) id_.emplace(std::move(id));
  }
  /// Text form: builds the DOM next to the text (read-only use: the text stays the message).
  void build_dom() const;
  /// Makes the DOM the message (mutable access); the text is kept (`original_`).
  void make_mutable();
  /// A DOM message made from text: whether its DOM still says what the text says.
  [[nodiscard]] bool unchanged() const noexcept;
  /// The payload text parsed (throws when it is not one JSON value: a broken invariant).
  [[nodiscard]] boost::json::value parse_payload() const;

  /// The DOM (engaged on first use: a text message, the common case, never constructs,
  /// moves or destroys a `json::object` while it is routed).
  [[nodiscard]] boost::json::object& dom() const {
    if (!obj_) obj_.emplace();
    return *obj_;
  }

  message_kind kind_ = message_kind::notification;
  mutable std::optional<boost::json::object> obj_;
  // The text form; `obj_` stays empty while `text_`. The method and the payload are spans of
  // `buf_` (usually the line as it arrived); a method set later lives in `method_set_`.
  mutable bool text_ = false;
  mutable bool dom_ = false; // text form: `obj_` holds its DOM too (built by a const accessor)
  bool original_ = false;    // DOM form: `buf_` still holds the text it was made from
  bool method_is_set_ = false;
  std::optional<boost::json::value> id_; // text form: of requests and responses (none for notifications)
  mutable text_buffer buf_;
  span method_;
  span payload_;
  struct member_span {
    span key;
    span value;
    bool key_escaped = false;
  };
  std::array<member_span, 2> params_members_{};
  signed char params_member_count_ = -1; // -1: not known (see scanned_params_members)
  mutable std::string method_set_;
};

/// A JSON value that is not a valid message.
struct invalid_message {
  rpc_error error;              ///< what to answer (-32700 or -32600)
  boost::json::value id;        ///< the id when one could be recovered, else null
  bool response_shaped = false; ///< it looked like a response: never answer it; fail the pending id
};

using checked = std::variant<message, invalid_message>;

/// Classifies one JSON value as a message.
[[nodiscard]] checked check(boost::json::value v);

/// Whether `v` may be used as an id (integer, string or null).
[[nodiscard]] bool is_valid_id(const boost::json::value& v) noexcept;

/// The id's identity as text: `1` -> "1", `"1"` -> "\"1\"", null -> "null".
[[nodiscard]] std::string id_key(const boost::json::value& id);

/// The messages of one line: a vector that holds a single item without allocating (almost
/// every line is one message). Contiguous: the items are in `one_` or all in `many_`.
class checked_list {
public:
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return many_.empty() ? (one_ ? 1 : 0) : many_.size(); }
  [[nodiscard]] checked* begin() noexcept { return many_.empty() ? (one_ ? &*one_ : nullptr) : many_.data(); }
  [[nodiscard]] checked* end() noexcept { return begin() + size(); }
  [[nodiscard]] const checked* begin() const noexcept {
    return many_.empty() ? (one_ ? &*one_ : nullptr) : many_.data();
  }
  [[nodiscard]] const checked* end() const noexcept { return begin() + size(); }
  // Indexing never offsets from `one_` (GCC's -Warray-bounds would see a one-element array).
  [[nodiscard]] checked& operator[](std::size_t i) noexcept { return many_.empty() ? *one_ : many_[i]; }
  [[nodiscard]] const checked& operator[](std::size_t i) const noexcept { return many_.empty() ? *one_ : many_[i]; }
  /// Throws std::out_of_range past the end.
  [[nodiscard]] checked& at(std::size_t i);
  [[nodiscard]] const checked& at(std::size_t i) const;
  [[nodiscard]] checked& front() noexcept { return *begin(); }
  [[nodiscard]] const checked& front() const noexcept { return *begin(); }
  [[nodiscard]] checked& back() noexcept { return many_.empty() ? *one_ : many_.back(); }
  void reserve(std::size_t n);
  void push_back(checked&& item) { (void)emplace_back(std::move(item)); }
  /// `item`: a message, an invalid_message or a checked.
  template <class T> checked& emplace_back(T&& item) {
    if (many_.capacity() == 0 && !one_) return one_.emplace(std::forward<T>(item));
    spill();
    return many_.emplace_back(std::forward<T>(item));
  }

private:
  void spill(); // moves `one_` into `many_`
  std::optional<checked> one_;
  std::vector<checked> many_;
};

/// One line of input, classified.
struct parsed_line {
  bool batch = false; ///< the line was a JSON array: answer with one array
  checked_list items; ///< one item unless `batch`
};

/// Parses lines into messages. Reuses its parser's memory between lines; one per reader.
class line_parser {
public:
  static constexpr std::size_t default_max_depth = 512;
  static constexpr std::size_t default_sample_bytes = 256;

  explicit line_parser(std::size_t max_depth = default_max_depth, std::size_t sample_bytes = default_sample_bytes);

  /// Not JSON -> one invalid_message with -32700 and `data.line` (a truncated, UTF-8-safe sample);
  /// so is a number no double can hold (`1e400`: Boost.JSON would read it as infinity and write
  /// `Infinity`, which is not JSON).
  /// An empty array -> -32600. Otherwise one item per message.
  /// `owner`: the buffer `line` lies in, adopted by a text message (see message::scan).
  [[nodiscard]] parsed_line parse(std::string_view line, text_buffer* owner = nullptr);

  /// Lines above this size get a parser of their own (its working memory is not kept).
  static constexpr std::size_t big_line_bytes = std::size_t{1} << 20;

private:
  std::size_t max_depth_;
  boost::json::parse_options options_;
  std::optional<boost::json::parser> parser_; // re-created after a large line
  std::size_t sample_bytes_;
};

/// Appends `s` as a JSON string (quoted, escaped where needed).
void append_json_string(std::string& out, std::string_view s);

/// A printable, valid UTF-8 sample of at most `max_bytes` bytes of `text` (invalid sequences
/// become U+FFFD; "…" marks a cut).
[[nodiscard]] std::string utf8_sample(std::string_view text, std::size_t max_bytes);

} // namespace acp::jsonrpc
