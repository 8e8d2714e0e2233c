// Replica URLs: s3://, abs://, file:// and plain paths parsed into
// ReplicaSettings (S3 host shortcuts for the common S3-compatible providers
// included), and printing URLs and settings without their secrets. URL
// schemes of backends that are not built are refused (storage/registry.h).
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/settings.h"

namespace litekeep::storage {

// True when text looks like "<scheme>://..." (as Litestream's IsURL).
bool IsUrl(std::string_view text);

// Parses a replica URL (or a plain path: a file replica) into settings.
// When keys is given, records the setting keys (and "type") whose values came
// from the URL. Errors name the URL part at fault and print the URL redacted.
// Credentials are refused in query parameters with a message naming the
// config key or environment variable that takes them.
Result<ReplicaSettings> ParseReplicaUrl(std::string_view url,
                                        std::set<std::string>* keys = nullptr);

// The text with every credential-bearing part of every URL in it replaced by
// "REDACTED": a password in user info (also in a URL nested in a query
// value, e.g. ?endpoint=http://u:p@host), and the values of credential query
// parameters (secret-access-key, session-token, X-Amz-Signature, ...). Text
// that is not a URL is returned unchanged.
std::string RedactUrlText(std::string_view url);

// True when a (kebab-case) query parameter name carries a credential.
bool IsCredentialParameter(std::string_view name);

// Adds http:// to local endpoints (localhost, 127.0.0.1, private networks)
// and https:// to others when the endpoint has no scheme.
std::string EnsureEndpointScheme(std::string_view endpoint);

// A URL naming the replica, safe to print (no secrets).
std::string Describe(const ReplicaSettings& settings);

}  // namespace litekeep::storage
