//! The container image and the CI recipes users paste agree: every recipe under `docs/recipes/`
//! (YAML parsed with serde_yaml, the Testcontainers snippets read as text) names the same image,
//! the same port and the same health path as the `Dockerfile`, and `docs/ci-recipes.md` shows
//! each recipe file verbatim.
//!
//! Nothing is hard-coded on both sides: the port is the Dockerfile's `EXPOSE`, the health path its
//! `synthflow-mock.health-path` label, the image name its `docker build -t NAME .` usage line.
//! The Dockerfile itself must be consistent (HEALTHCHECK and CMD on the EXPOSEd port, exec forms,
//! FROM scratch, non-root user, a build stage that runs `dist/build-static.sh`). A mutation test
//! changes the port, the image or the health path in each recipe and expects a complaint.

use std::fs;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

const MOCK_SERVICE: &str = "synthflow-mock";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    let path = root().join(rel);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// What the Dockerfile says the image is.
#[derive(Debug)]
struct Image {
    name: String,
    port: u16,
    health_path: String,
}

/// Dockerfile instructions (continuations joined, comments dropped), as (INSTRUCTION, rest).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
            continue;
        }
        current.push_str(trimmed);
        let (word, rest) = current
            .split_once(char::is_whitespace)
            .unwrap_or((&current, ""));
        out.push((word.to_ascii_uppercase(), rest.trim().to_owned()));
        current.clear();
    }
    out
}

/// `key="value" key2=value2` pairs of a LABEL instruction.
fn label_pairs(rest: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|&c| c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_owned(), value));
    }
    out
}

fn exec_form(what: &str, rest: &str) -> Result<Vec<String>, String> {
    serde_json::from_str(rest)
        .map_err(|e| format!("{what} is not an exec-form JSON array ({e}): {rest}"))
}

/// The value after `--port` in an argument list.
fn port_arg(args: &[String]) -> Option<&str> {
    let i = args.iter().position(|a| a == "--port")?;
    args.get(i + 1).map(String::as_str)
}

/// Reads the Dockerfile and checks it is consistent with itself; returns what recipes must match.
fn parse_dockerfile(text: &str) -> Result<Image, Vec<String>> {
    let mut errors = Vec::new();
    let all = instructions(text);
    let stages: Vec<usize> = (0..all.len()).filter(|&i| all[i].0 == "FROM").collect();
    if stages.len() < 2 {
        return Err(vec![format!(
            "not multi-stage: {} FROM lines",
            stages.len()
        )]);
    }
    let (build, last) = (
        &all[stages[0]..stages[stages.len() - 1]],
        &all[stages[stages.len() - 1]..],
    );
    if !build
        .iter()
        .any(|(i, r)| i == "RUN" && r.contains("dist/build-static.sh"))
    {
        errors.push("the build stage does not RUN dist/build-static.sh".into());
    }
    if last[0].1.split_whitespace().next() != Some("scratch") {
        errors.push(format!(
            "final stage is FROM {}, expected scratch",
            last[0].1
        ));
    }
    let get = |name: &str| -> Vec<&String> {
        last.iter()
            .filter(|(i, _)| i == name)
            .map(|(_, r)| r)
            .collect()
    };

    let port = match get("EXPOSE").as_slice() {
        [one] => match one.trim_end_matches("/tcp").parse::<u16>() {
            Ok(p) => Some(p),
            Err(_) => {
                errors.push(format!("EXPOSE {one}: not one port"));
                None
            }
        },
        other => {
            errors.push(format!(
                "expected one EXPOSE in the final stage, found {}",
                other.len()
            ));
            None
        }
    };

    let entrypoint = match get("ENTRYPOINT").as_slice() {
        [one] => exec_form("ENTRYPOINT", one)
            .map_err(|e| errors.push(e))
            .ok(),
        _ => {
            errors.push("expected one ENTRYPOINT".into());
            None
        }
    };
    let binary = entrypoint.as_ref().and_then(|e| e.first().cloned());

    match get("HEALTHCHECK").as_slice() {
        [one] => match one.find("CMD ") {
            Some(at) => match exec_form("HEALTHCHECK CMD", &one[at + 4..]) {
                Ok(cmd) => {
                    if cmd.first() != binary.as_ref() {
                        errors.push(format!(
                            "HEALTHCHECK runs {:?}, not the ENTRYPOINT",
                            cmd.first()
                        ));
                    }
                    if port_arg(&cmd).map(str::parse::<u16>) != port.map(Ok) {
                        errors.push(format!(
                            "HEALTHCHECK --port {:?} is not the EXPOSEd {port:?}",
                            port_arg(&cmd)
                        ));
                    }
                }
                Err(e) => errors.push(e),
            },
            None => errors.push(format!("HEALTHCHECK without CMD: {one}")),
        },
        _ => errors.push("expected one HEALTHCHECK".into()),
    }

    match get("CMD").as_slice() {
        [one] => match exec_form("CMD", one) {
            Ok(cmd) => {
                if port_arg(&cmd).map(str::parse::<u16>) != port.map(Ok) {
                    errors.push(format!(
                        "CMD --port {:?} is not the EXPOSEd {port:?}",
                        port_arg(&cmd)
                    ));
                }
                let host = cmd
                    .iter()
                    .position(|a| a == "--host")
                    .and_then(|i| cmd.get(i + 1));
                if host.map(String::as_str) != Some("0.0.0.0") {
                    errors.push(format!(
                        "CMD --host {host:?}: a container must listen on 0.0.0.0"
                    ));
                }
            }
            Err(e) => errors.push(e),
        },
        _ => errors.push("expected one CMD".into()),
    }

    match get("USER").as_slice() {
        [one] if !matches!(one.split(':').next(), Some("0" | "root" | "")) => {}
        _ => errors.push("expected one non-root USER in the final stage".into()),
    }

    let labels: Vec<(String, String)> = get("LABEL").iter().flat_map(|r| label_pairs(r)).collect();
    let health_path = labels
        .iter()
        .find(|(k, _)| k == "synthflow-mock.health-path")
        .map(|(_, v)| v.clone());
    if !health_path.as_deref().is_some_and(|p| p.starts_with('/')) {
        errors.push(format!("label synthflow-mock.health-path: {health_path:?}"));
    }

    let names: Vec<&str> = text
        .match_indices("docker build -t ")
        .filter_map(|(at, m)| text[at + m.len()..].split_whitespace().next())
        .collect();
    let name = names.first().map(|s| s.to_string());
    if names.is_empty() || names.iter().any(|n| Some(*n) != name.as_deref()) {
        errors.push(format!(
            "expected one image name in `docker build -t NAME .` lines: {names:?}"
        ));
    }

    match (errors.is_empty(), name, port, health_path) {
        (true, Some(name), Some(port), Some(health_path)) => Ok(Image {
            name,
            port,
            health_path,
        }),
        _ => Err(errors),
    }
}

fn is_ref_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')
}

/// Checks of the recipe text that do not depend on its format.
fn check_text(text: &str, image: &Image, errors: &mut Vec<String>) {
    // Image references `[registry/]synthflow-mock:TAG` (all-digit "tags" are host:port, below).
    let repo = image
        .name
        .rsplit_once(':')
        .map_or(image.name.as_str(), |(r, _)| r);
    let repo_tail = repo.rsplit('/').next().unwrap_or(repo);
    let mut image_refs = 0;
    for (at, _) in text.match_indices(&format!("{repo_tail}:")) {
        let start = text[..at]
            .rfind(|c: char| !is_ref_char(c))
            .map_or(0, |i| i + 1);
        let after = &text[at + repo_tail.len() + 1..];
        // A tag has no '/'; a trailing '.' ends a sentence.
        let tag: String = after
            .chars()
            .take_while(|&c| c != '/' && is_ref_char(c))
            .collect();
        let tag = tag.trim_end_matches('.');
        if tag.is_empty() || tag.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let reference = format!("{}:{tag}", &text[start..at + repo_tail.len()]);
        let reference = reference.trim_start_matches('/');
        image_refs += 1;
        if reference != image.name {
            errors.push(format!(
                "image {reference}, the Dockerfile's is {}",
                image.name
            ));
        }
    }
    if image_refs == 0 {
        errors.push(format!("no image reference {}", image.name));
    }

    // Port mentions: host:PORT of the mock, --port PORT, and the Testcontainers calls.
    let mut ports = Vec::new();
    for prefix in [
        "synthflow-mock:",
        "localhost:",
        "127.0.0.1:",
        "0.0.0.0:",
        "--port",
        "exposed_ports(",
        "exposed_port(",
        "ExposedPorts(",
        "MappedPort(",
        "PORT = ",
        "forHttp(",
    ] {
        for (at, _) in text.match_indices(prefix) {
            let after = &text[at + prefix.len()..];
            let window: String = after
                .chars()
                .take_while(|&c| c != ')' && c != '\n')
                .take(40)
                .collect();
            let skip = if prefix == "forHttp(" {
                window.find(',').map_or(window.len(), |i| i + 1)
            } else {
                0
            };
            let digits: String = window[skip..]
                .trim_start_matches([' ', '"', '\'', '=', ','])
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if digits.is_empty() {
                continue;
            }
            ports.push((prefix, digits));
        }
    }
    if ports.is_empty() {
        errors.push(format!("no mention of port {}", image.port));
    }
    for (prefix, digits) in ports {
        if digits != image.port.to_string() {
            errors.push(format!(
                "port {digits} after {prefix:?}, the Dockerfile EXPOSEs {}",
                image.port
            ));
        }
    }

    // Health path: present, and every /health... is exactly it.
    let stem = &image.health_path[..image.health_path.len().min(7)]; // "/health"
    if !text.contains(&image.health_path) {
        errors.push(format!(
            "no mention of the health path {}",
            image.health_path
        ));
    }
    for (at, _) in text.match_indices(stem) {
        let word: String = text[at..]
            .chars()
            .take_while(|&c| c == '/' || c.is_ascii_alphanumeric() || c == '_' || c == '-')
            .collect();
        if word != image.health_path {
            errors.push(format!(
                "health path {word}, the Dockerfile's is {}",
                image.health_path
            ));
        }
    }
    if text.contains("--health-cmd") {
        errors.push("--health-cmd runs through /bin/sh; the image has no shell".into());
    }
}

/// Checks of a YAML recipe's structure: the mock service's image and container port.
fn check_yaml(text: &str, image: &Image, errors: &mut Vec<String>) {
    let doc: Value = match serde_yaml::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            errors.push(format!("not YAML: {e}"));
            return;
        }
    };
    let mut services = Vec::new();
    collect_mock_services(&doc, &mut services);
    if services.is_empty() {
        errors.push(format!(
            "no `services:` entry for {MOCK_SERVICE} (by key or alias)"
        ));
    }
    for service in services {
        let reference = service
            .get("image")
            .or_else(|| service.get("name"))
            .and_then(Value::as_str);
        if reference != Some(image.name.as_str()) {
            errors.push(format!(
                "service image {reference:?}, the Dockerfile's is {}",
                image.name
            ));
        }
        for mapping in service
            .get("ports")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
        {
            let mapping = match mapping {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => format!("{other:?}"),
            };
            let container_side = mapping
                .rsplit(':')
                .next()
                .unwrap_or("")
                .trim_end_matches("/tcp");
            if container_side != image.port.to_string() {
                errors.push(format!(
                    "service port {mapping}: container side is not {}",
                    image.port
                ));
            }
        }
        if let Some(test) = service.get("healthcheck").and_then(|h| h.get("test")) {
            let exec = test
                .as_sequence()
                .and_then(|s| s.first())
                .and_then(Value::as_str)
                == Some("CMD");
            if !exec {
                errors.push(
                    "healthcheck.test must be exec form [\"CMD\", ...]: no shell in the image"
                        .into(),
                );
            }
        }
    }
}

/// Every `services:` entry that is the mock: a mapping key `synthflow-mock` (GitHub Actions,
/// compose) or an item with `alias: synthflow-mock` (GitLab CI).
fn collect_mock_services<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                if key.as_str() == Some("services") {
                    match child {
                        Value::Mapping(entries) => out.extend(
                            entries
                                .iter()
                                .filter(|(k, _)| k.as_str() == Some(MOCK_SERVICE))
                                .map(|(_, v)| v),
                        ),
                        Value::Sequence(items) => out.extend(items.iter().filter(|i| {
                            i.get("alias").and_then(Value::as_str) == Some(MOCK_SERVICE)
                        })),
                        _ => {}
                    }
                }
                collect_mock_services(child, out);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| collect_mock_services(i, out)),
        _ => {}
    }
}

fn check_recipe(file: &str, text: &str, image: &Image) -> Vec<String> {
    let mut errors = Vec::new();
    check_text(text, image, &mut errors);
    if file.ends_with(".yml") || file.ends_with(".yaml") {
        check_yaml(text, image, &mut errors);
    }
    errors
}

fn recipe_files() -> Vec<String> {
    let dir = root().join("docs/recipes");
    let mut files: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| {
            [".yml", ".yaml", ".py", ".mjs"]
                .iter()
                .any(|ext| n.ends_with(ext))
        })
        .collect();
    files.sort();
    files
}

fn image() -> Image {
    parse_dockerfile(&read("Dockerfile"))
        .unwrap_or_else(|e| panic!("Dockerfile:\n  {}", e.join("\n  ")))
}

#[test]
fn dockerfile_is_consistent_and_the_mock_serves_its_health_path() {
    let image = image();
    assert_eq!(image.health_path, "/healthz", "docs say /healthz");
    // The route lives somewhere under mock-server/src (the files move; the string stays).
    fn contains(dir: &Path, needle: &str) -> bool {
        fs::read_dir(dir).unwrap().any(|e| {
            let path = e.unwrap().path();
            if path.is_dir() {
                contains(&path, needle)
            } else {
                path.extension().is_some_and(|x| x == "rs")
                    && fs::read_to_string(&path).is_ok_and(|t| t.contains(needle))
            }
        })
    }
    let route = format!("\"{}\"", image.health_path);
    assert!(
        contains(&root().join("mock-server/src"), &route),
        "no {route} route in mock-server/src"
    );
}

#[test]
fn every_recipe_names_the_dockerfiles_image_port_and_health_path() {
    let image = image();
    let files = recipe_files();
    for expected in [
        "github-actions.yml",
        "gitlab-ci.yml",
        "docker-compose.yml",
        "testcontainers_python.py",
        "testcontainers-node.mjs",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "docs/recipes/{expected} missing"
        );
    }
    let mut failures = Vec::new();
    for file in &files {
        let errors = check_recipe(file, &read(&format!("docs/recipes/{file}")), &image);
        failures.extend(
            errors
                .into_iter()
                .map(|e| format!("docs/recipes/{file}: {e}")),
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn the_recipes_page_shows_every_recipe_file_verbatim() {
    let page = read("docs/ci-recipes.md");
    for file in recipe_files() {
        let text = read(&format!("docs/recipes/{file}"));
        assert!(
            page.contains(text.trim_end()),
            "docs/ci-recipes.md does not hold docs/recipes/{file} verbatim"
        );
        assert!(
            page.contains(&format!("recipes/{file}")),
            "docs/ci-recipes.md does not link docs/recipes/{file}"
        );
    }
}

#[test]
fn snippets_are_valid_python_and_javascript() {
    // Syntax only (nothing is run); skipped when the interpreter is missing.
    for file in recipe_files() {
        let path = root().join("docs/recipes").join(&file);
        let (program, args): (&str, Vec<String>) = if file.ends_with(".py") {
            (
                "python3",
                vec![
                    "-c".into(),
                    "import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])".into(),
                    path.display().to_string(),
                ],
            )
        } else if file.ends_with(".mjs") {
            ("node", vec!["--check".into(), path.display().to_string()])
        } else {
            continue;
        };
        match std::process::Command::new(program).args(&args).output() {
            Ok(out) => assert!(
                out.status.success(),
                "{file}: {program} says:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => eprintln!("skipped {file}: {program}: {e}"),
        }
    }
}

#[test]
fn a_recipe_with_another_port_image_or_health_path_is_refused() {
    let image = image();
    let other_name = format!("{}-other", image.name);
    for file in recipe_files() {
        let text = read(&format!("docs/recipes/{file}"));
        let port = image.port.to_string();
        let mutations = [
            ("port", text.replace(&port, &(image.port + 1).to_string())),
            ("image", text.replace(&image.name, &other_name)),
            ("health path", text.replace(&image.health_path, "/health")),
        ];
        for (what, mutated) in mutations {
            assert_ne!(mutated, text, "{file}: nothing to mutate for the {what}");
            assert!(
                !check_recipe(&file, &mutated, &image).is_empty(),
                "{file}: another {what} went unnoticed"
            );
        }
    }
}

#[test]
fn a_dockerfile_at_odds_with_itself_is_refused() {
    let text = read("Dockerfile");
    let image = image();
    let port = image.port.to_string();
    for (what, mutated) in [
        (
            "EXPOSE",
            text.replace(
                &format!("EXPOSE {port}"),
                &format!("EXPOSE {}", image.port + 1),
            ),
        ),
        (
            "shell-form HEALTHCHECK",
            text.replace(
                "CMD [\"/synthflow-mock\", \"healthcheck\"",
                "CMD /synthflow-mock healthcheck [\"x\"",
            ),
        ),
        ("root user", text.replace("USER 65532:65532", "USER 0:0")),
        (
            "loopback host",
            text.replace("\"0.0.0.0\"", "\"127.0.0.1\""),
        ),
    ] {
        assert_ne!(mutated, text, "nothing to mutate for {what}");
        assert!(parse_dockerfile(&mutated).is_err(), "{what} went unnoticed");
    }
}
