-- Schema version 2: the facts merged over shards, for dashboards and ad-hoc SQL. Counts and
-- revenue add up; a product is flagged hot/low-conversion when any shard flagged it; a session
-- seen by several shards takes the latest end, the sum of events and revenue and the largest
-- distinct page count. Unique users and sessions are not here: they need the sketches unioned
-- (hll_union_agg(users_hll::hll) where the postgresql-hll extension is installed; otherwise
-- PostgresStore merges them in the app, see core/pgstore.h).

CREATE VIEW page_metrics_merged AS
SELECT window_start, max(window_end) AS window_end, page,
       sum(views)::bigint AS views, sum(clicks)::bigint AS clicks,
       sum(add_to_cart)::bigint AS add_to_cart, sum(purchases)::bigint AS purchases,
       sum(revenue) AS revenue, count(*)::integer AS shards
FROM page_metrics
GROUP BY window_start, page;

CREATE VIEW geo_metrics_merged AS
SELECT window_start, max(window_end) AS window_end, country, browser, device_type,
       sum(events)::bigint AS events, count(*)::integer AS shards
FROM geo_metrics
GROUP BY window_start, country, browser, device_type;

CREATE VIEW sessions_merged AS
SELECT user_id, session_start, max(session_end) AS session_end, sum(events)::bigint AS events,
       max(distinct_pages) AS distinct_pages, sum(revenue) AS revenue,
       bool_or(converted) AS converted, count(*)::integer AS shards
FROM sessions
GROUP BY user_id, session_start;

CREATE VIEW product_funnel_merged AS
SELECT window_start, max(window_end) AS window_end, product_id,
       sum(views)::bigint AS views, sum(add_to_cart)::bigint AS add_to_cart,
       sum(purchases)::bigint AS purchases, bool_or(hot_low_conversion) AS hot_low_conversion,
       count(*)::integer AS shards
FROM product_funnel
GROUP BY window_start, product_id;
