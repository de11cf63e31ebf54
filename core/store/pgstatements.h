#pragma once

// Private to pgstore.cpp: the statements of PostgresStore::write() and connect(). Constant text:
// event data only ever travels as COPY data or as statement parameters ($1, ...).

namespace studio::core::pgsql {

inline constexpr const char *kStagingDdl = R"sql(
CREATE TEMP TABLE IF NOT EXISTS stage_page_metrics (
    window_start timestamptz, window_end timestamptz, page text, views bigint, clicks bigint,
    add_to_cart bigint, purchases bigint, revenue numeric(18,2), unique_users double precision,
    unique_sessions double precision, users_hll bytea, sessions_hll bytea, date_key integer
) ON COMMIT DELETE ROWS;
ALTER TABLE stage_page_metrics ALTER COLUMN users_hll SET STORAGE EXTERNAL,
                               ALTER COLUMN sessions_hll SET STORAGE EXTERNAL;
CREATE TEMP TABLE IF NOT EXISTS stage_geo_metrics (
    window_start timestamptz, window_end timestamptz, country text, browser text,
    device_type text, events bigint, date_key integer
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_sessions (
    user_id text, session_start timestamptz, session_end timestamptz, events bigint,
    distinct_pages integer, revenue numeric(18,2), converted boolean, date_key integer
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_product_funnel (
    window_start timestamptz, window_end timestamptz, product_id text, views bigint,
    add_to_cart bigint, purchases bigint, hot_low_conversion boolean, date_key integer
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_raw_events (
    event_id text, event_type text, ts timestamptz, user_id text, session_id text, page text,
    product_id text, product_category text, price numeric(18,2), referrer text, country text,
    device_type text, browser text, kafka_topic text, kafka_partition integer,
    kafka_offset bigint
) ON COMMIT DELETE ROWS;
)sql";

// Dimensions: only values not there yet (so identity keys are not burnt), in a fixed order (so
// two writers inserting the same new values cannot deadlock), racing writers absorbed by ON
// CONFLICT.
inline constexpr const char *kUpsertDate = R"sql(
INSERT INTO dim_date (date_key, full_date, year, quarter, month, day, day_of_week, week_of_year)
SELECT $1::integer, d, extract(year FROM d), extract(quarter FROM d), extract(month FROM d),
       extract(day FROM d), extract(isodow FROM d), extract(week FROM d)
FROM (SELECT $2::date AS d) s
ON CONFLICT DO NOTHING)sql";

inline constexpr const char *kUpsertDimsPages = R"sql(
INSERT INTO dim_page (page, page_type)
SELECT page, CASE WHEN page IN ('/', '/home') THEN 'home'
                  WHEN page LIKE '/category/%' THEN 'category'
                  WHEN page LIKE '/product/%' THEN 'product'
                  WHEN page = '/cart' THEN 'cart'
                  WHEN page = '/checkout' THEN 'checkout'
                  ELSE 'other' END
FROM (SELECT DISTINCT page FROM stage_page_metrics s
      WHERE NOT EXISTS (SELECT 1 FROM dim_page d WHERE d.page = s.page)) n
ORDER BY page
ON CONFLICT (page) DO NOTHING;)sql";
inline constexpr const char *kUpsertPages = R"sql(
INSERT INTO page_metrics (window_start, window_end, page, shard, views, clicks, add_to_cart,
                          purchases, revenue, unique_users, unique_sessions, users_hll,
                          sessions_hll, date_key, page_key)
SELECT s.window_start, s.window_end, s.page, $1, s.views, s.clicks, s.add_to_cart, s.purchases,
       s.revenue, s.unique_users, s.unique_sessions, s.users_hll, s.sessions_hll, s.date_key,
       d.page_key
FROM stage_page_metrics s JOIN dim_page d ON d.page = s.page
ON CONFLICT (window_start, page, shard) DO UPDATE SET
    window_end = EXCLUDED.window_end, views = EXCLUDED.views, clicks = EXCLUDED.clicks,
    add_to_cart = EXCLUDED.add_to_cart, purchases = EXCLUDED.purchases,
    revenue = EXCLUDED.revenue, unique_users = EXCLUDED.unique_users,
    unique_sessions = EXCLUDED.unique_sessions, users_hll = EXCLUDED.users_hll,
    sessions_hll = EXCLUDED.sessions_hll, date_key = EXCLUDED.date_key,
    page_key = EXCLUDED.page_key)sql";

inline constexpr const char *kUpsertDimsGeo = R"sql(
INSERT INTO dim_country (country)
SELECT country FROM (SELECT DISTINCT country FROM stage_geo_metrics s
                     WHERE NOT EXISTS (SELECT 1 FROM dim_country d
                                       WHERE d.country = s.country)) n
ORDER BY country
ON CONFLICT (country) DO NOTHING;
INSERT INTO dim_device (device_type, browser)
SELECT device_type, browser
FROM (SELECT DISTINCT device_type, browser FROM stage_geo_metrics s
      WHERE NOT EXISTS (SELECT 1 FROM dim_device d WHERE d.device_type = s.device_type
                                                     AND d.browser = s.browser)) n
ORDER BY device_type, browser
ON CONFLICT (device_type, browser) DO NOTHING;)sql";
inline constexpr const char *kUpsertGeo = R"sql(
INSERT INTO geo_metrics (window_start, window_end, country, browser, device_type, shard, events,
                         date_key, country_key, device_key)
SELECT s.window_start, s.window_end, s.country, s.browser, s.device_type, $1, s.events,
       s.date_key, c.country_key, v.device_key
FROM stage_geo_metrics s
JOIN dim_country c ON c.country = s.country
JOIN dim_device v ON v.device_type = s.device_type AND v.browser = s.browser
ON CONFLICT (window_start, country, browser, device_type, shard) DO UPDATE SET
    window_end = EXCLUDED.window_end, events = EXCLUDED.events, date_key = EXCLUDED.date_key,
    country_key = EXCLUDED.country_key, device_key = EXCLUDED.device_key)sql";

inline constexpr const char *kUpsertSessions = R"sql(
INSERT INTO sessions (user_id, session_start, session_end, shard, events, distinct_pages,
                      revenue, converted, date_key)
SELECT user_id, session_start, session_end, $1, events, distinct_pages, revenue, converted,
       date_key
FROM stage_sessions
ON CONFLICT (user_id, session_start, shard) DO UPDATE SET
    session_end = EXCLUDED.session_end, events = EXCLUDED.events,
    distinct_pages = EXCLUDED.distinct_pages, revenue = EXCLUDED.revenue,
    converted = EXCLUDED.converted, date_key = EXCLUDED.date_key)sql";

inline constexpr const char *kUpsertDimsFunnel = R"sql(
INSERT INTO dim_product (product_id)
SELECT product_id FROM (SELECT DISTINCT product_id FROM stage_product_funnel s
                        WHERE NOT EXISTS (SELECT 1 FROM dim_product d
                                          WHERE d.product_id = s.product_id)) n
ORDER BY product_id
ON CONFLICT (product_id) DO NOTHING;)sql";
inline constexpr const char *kUpsertFunnel = R"sql(
INSERT INTO product_funnel (window_start, window_end, product_id, shard, views, add_to_cart,
                            purchases, hot_low_conversion, date_key, product_key)
SELECT s.window_start, s.window_end, s.product_id, $1, s.views, s.add_to_cart, s.purchases,
       s.hot_low_conversion, s.date_key, d.product_key
FROM stage_product_funnel s JOIN dim_product d ON d.product_id = s.product_id
ON CONFLICT (window_start, product_id, shard) DO UPDATE SET
    window_end = EXCLUDED.window_end, views = EXCLUDED.views,
    add_to_cart = EXCLUDED.add_to_cart, purchases = EXCLUDED.purchases,
    hot_low_conversion = EXCLUDED.hot_low_conversion, date_key = EXCLUDED.date_key,
    product_key = EXCLUDED.product_key)sql";

inline constexpr const char *kArchiveRaw = R"sql(
INSERT INTO dim_referrer (referrer)
SELECT referrer FROM (SELECT DISTINCT referrer FROM stage_raw_events s
                      WHERE NOT EXISTS (SELECT 1 FROM dim_referrer d
                                        WHERE d.referrer = s.referrer)) n
ORDER BY referrer
ON CONFLICT (referrer) DO NOTHING;
INSERT INTO dim_product (product_id, category)
SELECT DISTINCT ON (product_id) product_id, product_category FROM stage_raw_events
WHERE product_id IS NOT NULL
ORDER BY product_id, product_category NULLS LAST
ON CONFLICT (product_id) DO UPDATE SET category = EXCLUDED.category
WHERE dim_product.category IS NULL AND EXCLUDED.category IS NOT NULL;
INSERT INTO raw_events (event_id, event_type, ts, user_id, session_id, page, product_id,
                        product_category, price, referrer, country, device_type, browser,
                        kafka_topic, kafka_partition, kafka_offset)
SELECT event_id, event_type, ts, user_id, session_id, page, product_id, product_category, price,
       referrer, country, device_type, browser, kafka_topic, kafka_partition, kafka_offset
FROM stage_raw_events
ON CONFLICT (event_id) DO NOTHING)sql";

inline constexpr const char *kUpsertOffset = R"sql(
INSERT INTO consumer_offsets (group_id, topic, partition, next_offset, updated_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (group_id, topic, partition) DO UPDATE SET
    next_offset = EXCLUDED.next_offset, updated_at = EXCLUDED.updated_at)sql";

inline constexpr const char *kUpsertCheckpoint = R"sql(
INSERT INTO aggregator_checkpoints (group_id, shard, state, offsets, updated_at)
VALUES ($1, $2, $3, $4::jsonb, now())
ON CONFLICT (group_id, shard) DO UPDATE SET
    state = EXCLUDED.state, offsets = EXCLUDED.offsets, updated_at = EXCLUDED.updated_at)sql";

} // namespace studio::core::pgsql
