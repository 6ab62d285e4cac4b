//! Which pages of a site the browser audit opens: the home page, then same-site pages from
//! the sitemap (robots.txt `Sitemap:` lines, else `/sitemap.xml`, index files followed) or,
//! without one, from the links of pages already audited — never a path robots.txt disallows.
//!
//! "Same site" is the home page's origin and its directory: a centre whose site is
//! `https://portal.example/centres/amman/` is not audited through the rest of the portal.

use url::Url;

/// The product token raqib answers to in robots.txt groups.
pub const ROBOTS_AGENT: &str = "raqib";

/// The rules of robots.txt (RFC 9309) that apply to raqib: its own group if there is one,
/// else the `*` group.
#[derive(Debug, Default, Clone)]
pub struct Robots {
    rules: Vec<(bool, String)>,
    pub sitemaps: Vec<String>,
}

impl Robots {
    pub fn parse(text: &str) -> Robots {
        // Groups: consecutive user-agent lines, then their rules.
        let mut own: Option<Vec<(bool, String)>> = None;
        let mut star: Option<Vec<(bool, String)>> = None;
        let mut sitemaps = Vec::new();
        let mut agents: Vec<String> = Vec::new();
        let mut rules: Vec<(bool, String)> = Vec::new();
        let mut in_rules = false;
        let mut close = |agents: &mut Vec<String>, rules: &mut Vec<(bool, String)>| {
            for a in agents.iter() {
                let slot = if a == "*" {
                    &mut star
                } else if a.eq_ignore_ascii_case(ROBOTS_AGENT) {
                    &mut own
                } else {
                    continue;
                };
                slot.get_or_insert_with(Vec::new)
                    .extend(rules.iter().cloned());
            }
            agents.clear();
            rules.clear();
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if in_rules {
                        close(&mut agents, &mut rules);
                        in_rules = false;
                    }
                    agents.push(value.to_string());
                }
                "allow" | "disallow" => {
                    in_rules = true;
                    // An empty disallow allows everything: no rule.
                    if !value.is_empty() {
                        rules.push((key == "allow", value.to_string()));
                    }
                }
                "sitemap" => sitemaps.push(value.to_string()),
                _ => {}
            }
        }
        close(&mut agents, &mut rules);
        Robots {
            rules: own.or(star).unwrap_or_default(),
            sitemaps,
        }
    }

    /// Whether `path` (with its query) may be fetched: the longest matching rule wins, and
    /// an allow wins a tie (RFC 9309 §2.2.2).
    pub fn allows(&self, path: &str) -> bool {
        let mut best: Option<(usize, bool)> = None;
        for (allow, pattern) in &self.rules {
            if pattern_matches(pattern, path) {
                let len = pattern.len();
                best = match best {
                    Some((l, a)) if l > len || (l == len && a) => Some((l, a)),
                    _ => Some((len, *allow)),
                };
            }
        }
        best.is_none_or(|(_, allow)| allow)
    }
}

/// `*` matches any run of characters, a final `$` anchors the end; otherwise a prefix match.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = path;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 && anchored {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    !anchored || rest.is_empty()
}

/// The `<loc>`s of a sitemap, and whether it is a sitemap index (its locs are sitemaps).
pub fn parse_sitemap(xml: &str) -> (bool, Vec<String>) {
    let index = xml.contains("<sitemapindex");
    let mut locs = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<loc>") {
        rest = &rest[start + 5..];
        let Some(end) = rest.find("</loc>") else {
            break;
        };
        let loc = rest[..end]
            .trim()
            .trim_start_matches("<![CDATA[")
            .trim_end_matches("]]>")
            .replace("&amp;", "&")
            .replace("&apos;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        locs.push(loc);
        rest = &rest[end..];
    }
    (index, locs)
}

/// The site a home page stands for: its origin and directory.
#[derive(Debug, Clone)]
pub struct Site {
    home: Url,
    prefix: String,
}

impl Site {
    pub fn new(home: &Url) -> Site {
        let path = home.path();
        let prefix = match path.rfind('/') {
            Some(i) => path[..=i].to_string(),
            None => "/".to_string(),
        };
        let mut home = home.clone();
        home.set_fragment(None);
        Site { home, prefix }
    }

    pub fn home(&self) -> &Url {
        &self.home
    }

    /// `link` resolved against the site, without its fragment, if it is a page of the site
    /// other than the home page.
    pub fn page(&self, link: &str) -> Option<Url> {
        let mut url = self.home.join(link).ok()?;
        url.set_fragment(None);
        let same = url.scheme() == self.home.scheme()
            && url.host_str() == self.home.host_str()
            && url.port_or_known_default() == self.home.port_or_known_default()
            && url.path().starts_with(&self.prefix);
        // Documents a browser would download rather than show are not pages.
        let lower = url.path().to_ascii_lowercase();
        let download = [
            ".pdf", ".zip", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".jpg", ".jpeg",
            ".png", ".gif", ".svg", ".mp3", ".mp4", ".xml", ".txt", ".css", ".js",
        ]
        .iter()
        .any(|ext| lower.ends_with(ext));
        (same && !download && url != self.home).then_some(url)
    }

    /// The origin's robots.txt.
    pub fn robots_url(&self) -> Option<Url> {
        self.home.join("/robots.txt").ok()
    }

    pub fn default_sitemap(&self) -> Option<Url> {
        self.home.join("/sitemap.xml").ok()
    }
}

/// Picks up to `budget` new pages from `candidates`, in order, skipping those already
/// chosen, those off the site and those robots.txt disallows.
pub fn pick(
    site: &Site,
    robots: &Robots,
    candidates: impl IntoIterator<Item = String>,
    chosen: &mut Vec<Url>,
    budget: usize,
) -> Vec<Url> {
    let mut picked = Vec::new();
    for c in candidates {
        if picked.len() >= budget {
            break;
        }
        let Some(url) = site.page(&c) else {
            continue;
        };
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        if !robots.allows(&path) || chosen.contains(&url) {
            continue;
        }
        chosen.push(url.clone());
        picked.push(url);
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_longest_match_and_own_group() {
        let r = Robots::parse(
            "User-agent: *\nDisallow: /\n\nUser-agent: Raqib\nUser-agent: other\nDisallow: /private/\nAllow: /private/open$\nDisallow: /*.cgi$ # scripts\nSitemap: https://x.example/s.xml\n",
        );
        assert!(r.allows("/"));
        assert!(r.allows("/centres/a"));
        assert!(!r.allows("/private/x"));
        assert!(r.allows("/private/open"));
        assert!(!r.allows("/private/open2"));
        assert!(!r.allows("/bin/a.cgi"));
        assert!(r.allows("/bin/a.cgi?x=1"));
        assert_eq!(r.sitemaps, ["https://x.example/s.xml"]);
        let star = Robots::parse("User-agent: *\nDisallow: /\nAllow: /$\n");
        assert!(star.allows("/"));
        assert!(!star.allows("/a"));
        // Equal length: allow wins.
        let tie = Robots::parse("User-agent: *\nDisallow: /a\nAllow: /a\n");
        assert!(tie.allows("/a"));
        assert!(Robots::parse("User-agent: *\nDisallow:\n").allows("/x"));
        assert!(Robots::parse("").allows("/x"));
    }

    #[test]
    fn sitemaps_and_indexes() {
        let (index, locs) = parse_sitemap(
            "<?xml version=\"1.0\"?><sitemapindex><sitemap><loc>https://a.example/s1.xml</loc></sitemap></sitemapindex>",
        );
        assert!(index);
        assert_eq!(locs, ["https://a.example/s1.xml"]);
        let (index, locs) = parse_sitemap(
            "<urlset><url><loc> https://a.example/p?x=1&amp;y=2 </loc></url><url><loc><![CDATA[https://a.example/q]]></loc></url></urlset>",
        );
        assert!(!index);
        assert_eq!(locs, ["https://a.example/p?x=1&y=2", "https://a.example/q"]);
    }

    #[test]
    fn pages_stay_on_the_site() {
        let site = Site::new(&Url::parse("http://127.0.0.1:8080/ok/c1/").unwrap());
        assert!(site.page("/ok/c1/contact").is_some());
        assert!(site.page("contact#top").is_some());
        assert!(site.page("/ok/c2/").is_none());
        assert!(site.page("http://127.0.0.1:8081/ok/c1/x").is_none());
        assert!(site.page("https://127.0.0.1:8080/ok/c1/x").is_none());
        assert!(site.page("/ok/c1/#main").is_none(), "the home page itself");
        assert!(site.page("/ok/c1/form.pdf").is_none());
        let robots = Robots::parse("User-agent: *\nDisallow: /*/private\n");
        let mut chosen = Vec::new();
        let picked = pick(
            &site,
            &robots,
            ["a", "b", "private", "a", "c", "d"].map(String::from),
            &mut chosen,
            3,
        );
        let paths: Vec<_> = picked.iter().map(|u| u.path().to_string()).collect();
        assert_eq!(paths, ["/ok/c1/a", "/ok/c1/b", "/ok/c1/c"]);
    }
}
