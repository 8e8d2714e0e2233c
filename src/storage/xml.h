// The little XML the S3 and Azure Blob APIs speak: flat, well-formed
// responses without CDATA (listings, errors, multipart ids), and escaping
// for request bodies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace litekeep::storage {

// Text with the five named entities and numeric references decoded.
std::string XmlUnescape(std::string_view s);
// Text with &, <, >, " and ' escaped.
std::string XmlEscape(std::string_view s);
// Inner texts of every <tag>…</tag> (also <tag attr="…">, <tag/>) in order.
std::vector<std::string_view> XmlBlocks(std::string_view xml,
                                        std::string_view tag);
// The unescaped text of the first <tag>, or "".
std::string XmlText(std::string_view xml, std::string_view tag);

}  // namespace litekeep::storage
