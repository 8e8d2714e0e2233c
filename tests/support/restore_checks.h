// End-to-end checks every replica backend's test runs the same way, with
// the real binary against a replica URL: point-in-time restores by TXID and
// by timestamp after four `replicate -once` runs, and the VFS reading the
// replica like the source database. Failures are gtest failures.
#pragma once

#include <string>

namespace litekeep::testing {

// Writes four transactions to a fresh database, replicating each with
// `replicate -once DB url`, then restores every point by `-txid` and by
// `-timestamp` and compares the content hashes. url must be empty.
void ExpectPointInTimeRestores(const std::string& url);

// Opens url through the litekeep VFS and expects the schema and page count
// of the source database db.
void ExpectVfsReadsLikeSource(const std::string& url, const std::string& db);

}  // namespace litekeep::testing
