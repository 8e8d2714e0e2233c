// The S3 credentials chain (docs/s3.md "Credentials"): settings, then the
// environment, then the shared credentials file.
#pragma once

#include "base/status.h"
#include "storage/s3/options.h"
#include "storage/s3/sigv4.h"

namespace litekeep::storage::s3 {

// Resolves credentials: access-key-id/secret-access-key (+session-token)
// from the options, then AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY
// (+AWS_SESSION_TOKEN), then LITESTREAM_ACCESS_KEY_ID/
// LITESTREAM_SECRET_ACCESS_KEY, then the shared credentials file
// ($AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, section profile /
// $AWS_PROFILE / "default"). A session-token in the options applies to keys
// from the environment too. The error names where it looked, never a secret.
Result<Credentials> ResolveCredentials(const S3Options& options);

}  // namespace litekeep::storage::s3
