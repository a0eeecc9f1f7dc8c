#pragma once
// Content blocks (ContentBlock and its variants), as used in prompts, message chunks and tool
// call content.

#include <acp/protocol/types/open_enum.hpp>

namespace acp {

struct annotations {
  std::optional<std::vector<role>> audience;
  std::optional<std::string> last_modified;
  std::optional<double> priority;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"text"}`
struct text_content {
  std::optional<acp::annotations> annotations;
  std::string text;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"image"}`
struct image_content {
  std::optional<acp::annotations> annotations;
  std::string data; ///< base64
  std::string mime_type;
  std::optional<std::string> uri;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"audio"}`
struct audio_content {
  std::optional<acp::annotations> annotations;
  std::string data; ///< base64
  std::string mime_type;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// `{"type":"resource_link"}`
struct resource_link {
  std::optional<acp::annotations> annotations;
  std::optional<std::string> description;
  std::optional<std::string> mime_type;
  std::string name;
  std::optional<std::int64_t> size;
  std::optional<std::string> title;
  std::string uri;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct text_resource_contents {
  std::optional<std::string> mime_type;
  std::string text;
  std::string uri;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

struct blob_resource_contents {
  std::string blob; ///< base64
  std::optional<std::string> mime_type;
  std::string uri;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Untagged: an object with a `blob` member is a blob, anything else is text.
using embedded_resource_resource = std::variant<text_resource_contents, blob_resource_contents>;

/// `{"type":"resource"}`
struct embedded_resource {
  std::optional<acp::annotations> annotations;
  embedded_resource_resource resource;
  std::optional<boost::json::value> meta;
  boost::json::object extra;
};

/// Tagged by `type`: text, image, audio, resource_link, resource; anything else is kept as
/// `unknown_variant`.
using content_block =
    std::variant<text_content, image_content, audio_content, resource_link, embedded_resource, unknown_variant>;

ACP_DECLARE_CODEC(annotations);
ACP_DECLARE_CODEC(text_content);
ACP_DECLARE_CODEC(image_content);
ACP_DECLARE_CODEC(audio_content);
ACP_DECLARE_CODEC(resource_link);
ACP_DECLARE_CODEC(text_resource_contents);
ACP_DECLARE_CODEC(blob_resource_contents);
ACP_DECLARE_CODEC(embedded_resource_resource);
ACP_DECLARE_CODEC(embedded_resource);
ACP_DECLARE_CODEC(content_block);

} // namespace acp
