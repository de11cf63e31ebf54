#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace studio::core {

/// What becomes of a page's query string (README "Page normalisation").
enum class PageQuery : std::uint8_t {
    Drop,      ///< removed (the default: tracking parameters and session ids make every URL new)
    Keep,      ///< kept as sent
    KeepListed ///< only the parameters named in PageNormalization::keepParams, in sent order
};

/// How `page` is normalised before aggregation. Parsed from `--page-query`.
struct PageNormalization
{
    PageQuery query = PageQuery::Drop;
    std::vector<std::string> keepParams; ///< with KeepListed

    /// "drop", "keep" or "keep:NAME,NAME,..."; false with a message otherwise.
    static bool parse(std::string_view spec, PageNormalization &out, std::string &error);
    /// The `--page-query` spelling of this.
    std::string spec() const;
    bool operator==(const PageNormalization &) const = default;
};

/// Normalises the `page` of events, the same way everywhere a page is aggregated (aggregate,
/// run/headless, the GUI, verify's offline pass): the aggregator applies it to every event.
///  - a full URL (`scheme://host[:port]/path`) or a scheme-relative one (`//host/path`) is
///    reduced to its path: a page is a path on the site, so the scheme and host (whatever
///    their case) are dropped;
///  - the fragment (`#...`) is always dropped;
///  - the query string (`?...`) per PageNormalization::query; an empty one is dropped;
///  - an empty path is `/`; a path not starting with `/` gets one (so no page can be the
///    `(other)` row of a capped window);
///  - trailing slashes are dropped (`/cart/` is `/cart`), except the root `/`;
///  - the path's own case is kept (paths are case-sensitive).
/// A page already normal (starts with '/', no '?' or '#', no trailing '/') costs one scan.
/// Not thread-safe (it owns the buffer a result may view): one per worker.
class PageNormalizer
{
public:
    explicit PageNormalizer(PageNormalization settings = {});
    /// The normal form of `page`: a view of `page` itself or of this normaliser's buffer, valid
    /// until the next call.
    std::string_view normalize(std::string_view page);

private:
    PageNormalization m_settings;
    std::string m_buffer;
};

} // namespace studio::core
