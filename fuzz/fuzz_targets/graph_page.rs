//! A Graph collection page and the nextLink policy: `graph::Page` deserialization (borrowed
//! raw items) and `graph::same_origin` on the parsed `@odata.nextLink`, checked against the
//! URL crate's own idea of an origin.
#![no_main]

use std::sync::OnceLock;

use graphd::graph::{self, Page};
use libfuzzer_sys::fuzz_target;
use url::Url;

fn bases() -> &'static [Url; 2] {
    static BASES: OnceLock<[Url; 2]> = OnceLock::new();
    BASES.get_or_init(|| {
        [
            Url::parse("https://graph.microsoft.com").expect("a fixed URL"),
            Url::parse("http://127.0.0.1:8081").expect("a fixed URL"),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(page) = serde_json::from_slice::<Page<'_>>(data) else {
        return;
    };
    for item in &page.value {
        // Each raw item is itself valid JSON, as the output module relies on.
        let _: serde_json::Value =
            serde_json::from_str(item.get()).expect("a raw item is valid JSON");
    }
    let Some(link) = &page.next_link else {
        return;
    };
    let Ok(next) = Url::parse(link) else {
        return;
    };
    for base in bases() {
        let same = graph::same_origin(&next, base);
        assert_eq!(
            same,
            next.origin() == base.origin(),
            "same_origin disagrees with the URL origin for {next} against {base}"
        );
        if same {
            assert_eq!(next.host_str(), base.host_str());
            assert_eq!(next.port_or_known_default(), base.port_or_known_default());
        }
    }
});
