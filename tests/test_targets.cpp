// core/store/targets.h: the one parser per kind of address (PostgreSQL through libpq's own
// PQconninfoParse, Redis strictly) that the command line, the engine and the Connections dialog
// share, and the descriptions that keep passwords out of messages.

#include "core/store/targets.h"

#include <catch2/catch.hpp>

#include <string>

using namespace studio::core;

TEST_CASE("checkPostgresConninfo finds a password in every form libpq reads one", "[targets]")
{
    for (const char *withPassword : {
             "host=db user=studio password=s3cret",                // key=value
             "host=db password = 's3 cret' user=studio",           // quoted, spaces around '='
             "postgresql://studio:s3cret@db:5432/clickstream",     // in the URI's user part
             "postgres://studio:s3%40cret@db/clickstream",         // percent-encoded
             "postgresql://studio@db/clickstream?password=s3cret", // a query parameter
             "postgresql://db/clickstream?user=studio&password=x", // another query parameter
             "postgresql://:pw@db/clickstream",                    // an empty user, 2 characters
         }) {
        INFO(withPassword);
        CHECK(checkPostgresConninfo(withPassword) == kPostgresConninfoHasPassword);
    }
}

TEST_CASE("checkPostgresConninfo accepts addresses without a password", "[targets]")
{
    for (const char *none : {
             "",
             "host=db port=5432 dbname=studio user=studio",
             "host=db dbname=password_reset user=passwordless", // the word alone is no password
             "postgresql://studio@db:5432/clickstream",
             "postgresql://db/clickstream?sslmode=require&connect_timeout=3",
             "postgresql://[::1]:5432/clickstream",
             "postgresql://studio:@db/clickstream", // an empty password is none
             "host=db password=''",
         }) {
        INFO(none);
        CHECK(checkPostgresConninfo(none).empty());
    }
}

TEST_CASE("checkPostgresConninfo refuses what libpq cannot parse, with libpq's reason", "[targets]")
{
    for (const char *bad :
         {"host=db port", "hots=db", "postgresql://db/x?nonsense=1", "host='unterminated"}) {
        INFO(bad);
        const std::string why = checkPostgresConninfo(bad);
        CHECK(why.rfind("not a valid PostgreSQL connection string: ", 0) == 0);
        CHECK(why.size() > std::string("not a valid PostgreSQL connection string: ").size());
        CHECK(why.find('\n') == std::string::npos);
    }
}

TEST_CASE("parseRedisUri reads redis://[USER@]HOST[:PORT][/DB] and the same without a scheme",
          "[targets]")
{
    struct Case
    {
        const char *uri;
        const char *host;
        int port;
        const char *user;
        int db;
    };
    for (const Case &c : {
             Case{"redis://writer@cache.local:6380/3", "cache.local", 6380, "writer", 3},
             Case{"redis://cache", "cache", 6379, "", 0},
             Case{"redis://cache/", "cache", 6379, "", 0},
             Case{"127.0.0.1", "127.0.0.1", 6379, "", 0},
             Case{"127.0.0.1:7000/15", "127.0.0.1", 7000, "", 15},
             Case{"redis://[::1]:6390/2", "::1", 6390, "", 2},
             Case{"redis://[::1]", "::1", 6379, "", 0},
             Case{"[fe80::1]:1", "fe80::1", 1, "", 0},
             Case{"redis://us%40er@h:65535", "h", 65535, "us@er", 0},
             Case{"redis://my_host-1.example:6379/0", "my_host-1.example", 6379, "", 0},
         }) {
        INFO(c.uri);
        std::string error;
        const auto t = parseRedisUri(c.uri, &error);
        INFO(error);
        REQUIRE(t);
        CHECK(t->host == c.host);
        CHECK(t->port == c.port);
        CHECK(t->user == c.user);
        CHECK(t->db == c.db);
        CHECK(t->password.empty());
        // redisUri writes it back so that it reads the same.
        const auto again = parseRedisUri(redisUri(*t), &error);
        REQUIRE(again);
        CHECK(again->host == t->host);
        CHECK(again->port == t->port);
        CHECK(again->user == t->user);
        CHECK(again->db == t->db);
    }
}

TEST_CASE("parseRedisUri refuses the addresses the lenient parser used to take", "[targets]")
{
    struct Case
    {
        const char *uri;
        const char *message; // how the error starts
    };
    for (const Case &c : {
             Case{"redis://h:6379x", "bad port"}, // stoi took "6379"
             Case{"redis://h:0", "bad port"},
             Case{"redis://h:65536", "bad port"},
             Case{"redis://h:", "bad port"},
             Case{"redis://h: 6379", "bad port"},
             Case{"redis://h:+6379", "bad port"},
             Case{"redis://h/-1", "bad database number"},
             Case{"redis://h/1x", "bad database number"}, // stoi took "1"
             Case{"redis://h/0/extra", "bad database number"},
             Case{"redis://", "no host"},
             Case{"redis://:6379", "no host"},
             Case{"", "no host"},
             Case{"redis://bad host", "a bad host name"},
             Case{"redis://::1", "an IPv6 address without brackets"},
             Case{"redis://[::1", "an unclosed '['"},
             Case{"redis://[::1]x", "text after ']'"},
             Case{"redis://[cache]", "a bad IPv6 address"},
             Case{"redis://a@b@h", "a second '@'"},
             Case{"redis://@h", "a bad user"},
             Case{"redis://h/0?timeout=1", "a query or fragment"},
             Case{"rediss://h:6380", "rediss:// (TLS to Redis) is not supported"},
             Case{"http://h:6379", "'http://' is not a Redis address"},
         }) {
        INFO(c.uri);
        std::string error;
        CHECK_FALSE(parseRedisUri(c.uri, &error));
        INFO(error);
        CHECK(error.rfind(c.message, 0) == 0);
    }
}

TEST_CASE("parseRedisUri refuses a password in any form and never repeats it", "[targets]")
{
    for (const char *uri : {"redis://u:s3cret-pw@h", "redis://:s3cret-pw@h:6379/0", "u:s3cret-pw@h",
                            "redis://h:6379/0?password=s3cret-pw", "redis://h/0?PASSWORD=s3cret-pw",
                            "rediss://u:s3cret-pw@h", "redis://u:pw@h" /* 2 characters */}) {
        INFO(uri);
        std::string error;
        CHECK_FALSE(parseRedisUri(uri, &error));
        CHECK(error == kRedisUriHasPassword);
    }
}

TEST_CASE("parseRedisUri with a user: the given user wins over the URI's", "[targets]")
{
    std::string error;
    auto t = parseRedisUri("redis://uri-user@h:1/2", "field-user", &error);
    REQUIRE(t);
    CHECK(t->user == "field-user");
    t = parseRedisUri("redis://uri-user@h:1/2", "", &error);
    REQUIRE(t);
    CHECK(t->user == "uri-user");
    CHECK(redisUri({"::1", 6380, "a b", "secret", 4}) == "redis://a%20b@[::1]:6380/4");
}

TEST_CASE("a PostgreSQL description hides a password in the URI's user part", "[targets]")
{
    CHECK(PostgresTarget{"postgresql://u:pw@h:5432/db", ""}.describe() ==
          "postgresql://u:***@h:5432/db");
    CHECK(PostgresTarget{"postgresql://u@h:5432/db", ""}.describe() == "postgresql://u@h:5432/db");
    CHECK(PostgresTarget{"postgresql://h:5432/db?x=a@b", ""}.describe() ==
          "postgresql://h:5432/db?x=a@b");
    CHECK(PostgresTarget{"host=h password=pw user=u", "pw"}.describe() ==
          "host=h password=*** user=u");
}
