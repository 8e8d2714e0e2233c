// Azure Storage Shared Key authorization, written from Microsoft's public
// description ("Authorize with Shared Key", 2009-09-19 and later): the
// canonicalized headers and resource, the string-to-sign, and the
// "SharedKey <account>:<signature>" header value; plus the RFC 1123 dates
// the Azure Blob backend needs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/types.h"
#include "storage/hash.h"
#include "storage/http.h"

namespace litekeep::storage::abs {

// What is signed.
struct SharedKeyRequest {
  std::string method;   // "GET", "PUT", ...
  std::string account;  // storage account name
  // The URL path exactly as sent (percent-encoded), e.g. "/container/blob",
  // or "/devstoreaccount1/container/blob" for a path-style emulator URL.
  std::string path;
  KeyValues query;    // decoded (name, value); names in any case
  KeyValues headers;  // every request header (names in any case)
};

// The canonical string-to-sign for the Blob service (version 2015-02-21 and
// later: a zero Content-Length is signed as the empty string).
std::string StringToSign(const SharedKeyRequest& request);

// HMAC-SHA256 of string_to_sign under the decoded account key, Base64.
std::string SharedKeySignature(std::string_view key_bytes,
                               std::string_view string_to_sign);

// The Authorization header value "SharedKey <account>:<signature>".
std::string SharedKeyAuthorization(std::string_view account,
                                   std::string_view key_bytes,
                                   std::string_view string_to_sign);

// "Sun, 06 Nov 1994 08:49:37 GMT" (the x-ms-date form).
std::string Rfc1123Date(TimePoint t);
// Parses the RFC 1123 form Azure uses in listings; nullopt when malformed.
std::optional<TimePoint> ParseRfc1123(std::string_view text);

// Base64Decode for the account key (storage/hash.h).
using storage::Base64Decode;

}  // namespace litekeep::storage::abs
