"""What a fork and a citation rely on: the workflow files, CITATION.cff, one version everywhere.

- `.github/workflows/*.yml` validate against the GitHub-workflow schema, and CITATION.cff against
  the Citation File Format 1.2.0 schema, with check-jsonschema's built-in copies of those schemas
  (`--builtin-schema vendor.github-workflows`, `vendor.citation-file-format`): offline, which the
  tests enforce by making every network connection fail while the validator runs. A broken copy
  of each file must fail, so the validation can fail.
- The workflows do what README.md says: the test job runs `.ci/run` (the README's test command)
  in a Debian container; the Pages job builds with `make book` and deploys `_build/html` with
  GitHub's Pages actions; every action is pinned to a release tag or a commit.
- One version: pyproject.toml's, which `byhand.__version__`, CITATION.cff, CHANGELOG.md and the
  built book's footer (book/ext/byhand_version.py) must show. The footer test reads the built site
  ($BYHAND_SITE, default `_build/html`; `make book` builds it) and is skipped when there is none.
"""

import os
import re
import socket
import tomllib
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import byhand

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("BYHAND_SITE") or ROOT / "_build" / "html")
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CITATION = ROOT / "CITATION.cff"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


@pytest.fixture
def offline(monkeypatch):
    """Every attempt to reach the network fails, and is recorded."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[1:] or args)
        raise OSError("network access is blocked in this test")

    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse(self, *a))
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, *a: refuse(self, *a))
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield attempts
    assert not attempts, f"the validator tried to reach the network: {attempts}"


def check_jsonschema(schema, *files):
    """check-jsonschema's command line, run in this process (its imports take seconds)."""
    from check_jsonschema import main

    result = CliRunner().invoke(main, ["--builtin-schema", schema, *map(str, files)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def load_yaml(path):
    return yaml.safe_load(Path(path).read_text())


def triggers(workflow):
    # YAML 1.1 reads the key `on` as True.
    return workflow.get("on", workflow.get(True))


# --- the workflow files -------------------------------------------------------------------------

def test_the_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"test.yml", "pages.yml"}


def test_workflows_match_the_github_workflow_schema(offline):
    code, output = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert code == 0, output


def test_a_broken_workflow_fails_the_schema(offline, tmp_path):
    text = (ROOT / ".github" / "workflows" / "test.yml").read_text()
    broken = re.sub(r"^    runs-on: .*\n", "", text, count=1, flags=re.M)  # where it runs
    assert broken != text
    path = tmp_path / "test.yml"
    path.write_text(broken)
    code, output = check_jsonschema("vendor.github-workflows", path)
    assert code == 1, output
    assert "'runs-on' is a required property" in output, output


def test_the_test_job_runs_the_readme_command_in_debian():
    workflow = load_yaml(ROOT / ".github" / "workflows" / "test.yml")
    assert {"push", "pull_request"} <= set(triggers(workflow))
    (job,) = workflow["jobs"].values()
    image = job["container"] if isinstance(job["container"], str) else job["container"]["image"]
    assert re.fullmatch(r"python:3\.1[1-9]-(bookworm|trixie)", image), image
    runs = "\n".join(step.get("run", "") for step in job["steps"])
    assert "nodejs npm" in runs, "Node.js and npm come from Debian's packages"
    assert runs.rstrip().endswith("bash .ci/run"), "the job's last command is .ci/run"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "apt-get install" in ci and "chromium" in ci and ci.rstrip().endswith("make test")
    assert "make test" in (ROOT / "README.md").read_text()


def test_the_pages_job_builds_the_book_and_deploys_it():
    workflow = load_yaml(ROOT / ".github" / "workflows" / "pages.yml")
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"]["group"] and workflow["concurrency"]["cancel-in-progress"] is False
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert any(step.get("run", "").strip() == "make book" for step in build["steps"])
    (upload,) = [s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert any("actions/deploy-pages@" in s.get("uses", "") for s in deploy["steps"])


def test_every_action_is_pinned():
    for path in WORKFLOWS:
        for name, job in load_yaml(path)["jobs"].items():
            for step in job.get("steps", []):
                if "uses" in step:
                    ref = step["uses"].partition("@")[2]
                    assert re.fullmatch(r"v\d+(\.\d+){0,2}|[0-9a-f]{40}", ref), (
                        f"{path.name}, job {name}: {step['uses']} is not pinned to a release "
                        "tag or a commit")


# --- CITATION.cff -------------------------------------------------------------------------------

def test_citation_matches_the_cff_schema(offline):
    code, output = check_jsonschema("vendor.citation-file-format", CITATION)
    assert code == 0, output


def test_a_broken_citation_fails_the_schema(offline, tmp_path):
    text = CITATION.read_text()
    broken = re.sub(r"^authors:\n(  .*\n)+", "", text, count=1, flags=re.M)
    assert broken != text
    path = tmp_path / "CITATION.cff"
    path.write_text(broken)
    code, output = check_jsonschema("vendor.citation-file-format", path)
    assert code == 1, output
    assert "'authors' is a required property" in output, output


def test_citation_says_what_the_project_says():
    cff = load_yaml(CITATION)
    config = load_yaml(ROOT / "_config.yml")
    assert cff["repository-code"] == config["repository"]["url"]
    assert cff["title"] == config["title"]
    assert cff["authors"] == [{"name": config["author"]}]
    licence = (ROOT / "LICENSE").read_text()
    assert "MIT License" in licence and "(CC BY-SA 4.0)" in licence
    assert sorted(cff["license"]) == ["CC-BY-SA-4.0", "MIT"]


# --- one version --------------------------------------------------------------------------------

def test_one_version_in_package_citation_and_changelog():
    cff = load_yaml(CITATION)
    assert byhand.__version__ == VERSION, (
        f"byhand.__version__ is {byhand.__version__}, pyproject.toml says {VERSION}")
    for where, cited in [("version", cff["version"]),
                         ("preferred-citation: version", cff["preferred-citation"]["version"])]:
        assert str(cited) == VERSION, (
            f"CITATION.cff's {where} is {cited}, pyproject.toml's version {VERSION}: "
            "see CONTRIBUTING.md, Releasing")
    changelog = (ROOT / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[(\d[^\]]*)\] - (\d{4}-\d{2}-\d{2})$", changelog, re.M)
    assert released, "CHANGELOG.md has no release entry"
    assert released[0] == (VERSION, str(cff["date-released"])), (
        "the newest CHANGELOG.md entry must be pyproject.toml's version, released on "
        "CITATION.cff's date-released")
    assert f"[{VERSION}]: " in changelog, f"CHANGELOG.md has no link for [{VERSION}]"


def test_the_package_version_falls_back_to_its_metadata(tmp_path, monkeypatch):
    """Installed from a wheel (JupyterLite), byhand has no pyproject.toml beside it."""
    from importlib import metadata

    monkeypatch.setattr(byhand, "__file__", str(tmp_path / "byhand" / "__init__.py"))
    monkeypatch.setattr(metadata, "version", lambda name: "9.9.9" if name == "byhand" else None)
    assert byhand._version() == "9.9.9"


def test_the_book_footer_shows_the_version():
    intro = SITE / "intro.html"
    if not intro.exists():
        pytest.skip(f"no built book at {SITE}: run `make book` to check its footer")
    page = intro.read_text()
    footer = page[page.index('<footer class="bd-footer-content">'):]
    shown = re.search(r'<p class="byhand-version">Version ([^ <]+)', footer)
    assert shown, ("the footer shows no version: run `make book` (and check that byhand_version "
                   "is among _config.yml's extensions)")
    assert shown.group(1) == VERSION, (
        f"the built book says version {shown.group(1)}, pyproject.toml {VERSION}: "
        "run `make book` again")
    assert "MNIST data: Yann LeCun" in footer, "the footer lost the MNIST credit"
    assert f'<meta name="docsearch:version" content="{VERSION}"' in page
