//! The fixtures are made by exactly the commands tests/fixtures/README.md shows: its `sh`
//! blocks are the recipe, every file they name exists, and its notes are not run.

use crate::support::fixtures::{README, fixtures, sh_blocks};

/// The file names a recipe writes: after `-out`, and after a `>` redirection.
fn outputs(script: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in script.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[0] == "-out" || pair[0] == ">" {
                names.push(pair[1].trim_end_matches(';').to_string());
            }
        }
    }
    names
}

#[test]
fn every_file_the_readme_makes_exists() {
    let script = sh_blocks(README);
    let names = outputs(&script);
    assert!(names.len() > 60, "the recipes write {} files", names.len());
    let fx = fixtures();
    for name in names {
        // `../expired.crt` from the `ca` directory, `rsa$bits.key` from the loop.
        let name = name.trim_start_matches("../");
        let made: Vec<String> = if name.contains("$bits") {
            ["1024", "3072", "4096"]
                .iter()
                .map(|b| name.replace("$bits", b))
                .collect()
        } else if name.contains("$c") {
            ["chained", "inter", "root"]
                .iter()
                .map(|c| name.replace("$c", c))
                .collect()
        } else {
            vec![name.to_string()]
        };
        for name in made {
            let path = match name.as_str() {
                "req.csr" | "ca.cnf" | "index.txt" | "serial.txt" => fx.dir.join("ca").join(&name),
                _ => fx.dir.join(&name),
            };
            assert!(path.is_file(), "the README makes {name}, but it is missing");
        }
    }
}

#[test]
fn only_sh_blocks_are_run() {
    let markdown = "intro\n```sh\necho one\n```\n\n```text\nnot run\n```\n```\nnor this\n```\n  ```sh\necho two\n  ```\n";
    assert_eq!(sh_blocks(markdown), "echo one\necho two\n");
    let script = sh_blocks(README);
    assert!(
        script.starts_with("PW='Fixture-pw-9d41c7e2'"),
        "{script:.80}"
    );
    assert!(
        !script.contains("pkcs12 -info"),
        "the README's text block is a note, not a recipe"
    );
}
