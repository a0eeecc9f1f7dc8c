// Content blocks.
#include <acp/protocol/detail/codec.hpp>

namespace acp {

ACP_STRUCT(annotations, ACP_F("audience", audience), ACP_F("lastModified", last_modified), ACP_F("priority", priority),
           ACP_META)
ACP_STRUCT(text_content, ACP_F("annotations", annotations), ACP_F("text", text), ACP_META)
ACP_STRUCT(image_content, ACP_F("annotations", annotations), ACP_F("data", data), ACP_F("mimeType", mime_type),
           ACP_F("uri", uri), ACP_META)
ACP_STRUCT(audio_content, ACP_F("annotations", annotations), ACP_F("data", data), ACP_F("mimeType", mime_type),
           ACP_META)
ACP_STRUCT(resource_link, ACP_F("annotations", annotations), ACP_F("description", description),
           ACP_F("mimeType", mime_type), ACP_F("name", name), ACP_F("size", size), ACP_F("title", title),
           ACP_F("uri", uri), ACP_META)
ACP_STRUCT(text_resource_contents, ACP_F("mimeType", mime_type), ACP_F("text", text), ACP_F("uri", uri), ACP_META)
ACP_STRUCT(blob_resource_contents, ACP_F("blob", blob), ACP_F("mimeType", mime_type), ACP_F("uri", uri), ACP_META)
ACP_STRUCT(embedded_resource, ACP_F("annotations", annotations), ACP_F("resource", resource), ACP_META)
ACP_TAGGED_UNION(content_block, "type", "text", "image", "audio", "resource_link", "resource")

bool decode_value(const boost::json::value& v, embedded_resource_resource& out, decode_error& err) {
  const auto* o = v.if_object();
  if (o == nullptr) return detail::fail(err, "expected object");
  if (o->contains("blob")) return detail::read(v, out.emplace<blob_resource_contents>(), err);
  return detail::read(v, out.emplace<text_resource_contents>(), err);
}

void encode_value(const embedded_resource_resource& in, boost::json::value& out) {
  std::visit([&](const auto& r) { detail::write(r, out); }, in);
}

} // namespace acp
