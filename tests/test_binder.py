"""The repo2docker configuration in binder/ (Binder and JupyterHub images).

repo2docker is run with ``--no-build``: it prints the Dockerfile it would build, without
Docker and without the network. The simulated build installs a fresh virtualenv from exactly
``binder/requirements.txt``, runs ``binder/postBuild`` in it and executes a lesson there, all
from the wheelhouse ``make env`` downloads (``pip --no-index``: no package index).
"""

import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"
WHEELHOUSE = REPO / ".wheelhouse"
FIRST_LESSON = "notebooks/01_pooling.ipynb"
# The lesson the simulated build executes and validates: it reads the SpaceX table shipped
# inside the package (no external download), which a non-editable install must carry.
LESSON = "notebooks/04_spacex.ipynb"
# Copied into the image; the rest (environments, caches, build output) never is.
NOT_IN_THE_REPOSITORY = shutil.ignore_patterns(
    ".git",
    ".venv*",
    ".lock-venv",
    ".wheelhouse",
    "build",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
)


def repo2docker_executable() -> str:
    for folder in (Path(sys.executable).parent, *map(Path, os.get_exec_path())):
        if (folder / "repo2docker").is_file():
            return str(folder / "repo2docker")
    pytest.fail("repo2docker is not installed: it comes with the lock file, run `make env`.")


def render_dockerfile(repo: Path, workdir: Path) -> tuple[str, str]:
    """Return (Dockerfile, log) of `repo2docker --no-build` for a local folder."""
    result = subprocess.run(
        [
            repo2docker_executable(),
            "--no-build",
            "--debug",
            "--user-id",
            "1000",
            "--user-name",
            "jovyan",
            str(repo),
        ],
        cwd=workdir,  # repo2docker reads a repo2docker_config.py from its working folder
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout, result.stderr


def dockerfile_steps(dockerfile: str) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile)
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def index_of(steps: list[str], pattern: str) -> int:
    matches = [i for i, step in enumerate(steps) if re.search(pattern, step)]
    assert matches, f"no Dockerfile step matches {pattern!r}"
    return matches[0]


@pytest.fixture(scope="module")
def dockerfile(tmp_path_factory) -> tuple[list[str], str]:
    out, log = render_dockerfile(REPO, tmp_path_factory.mktemp("r2d"))
    return dockerfile_steps(out), log


def test_binder_requirements_are_the_lock_file_byte_for_byte():
    # repo2docker installs binder/requirements.txt; `make lock` writes it as a copy of the lock.
    assert (BINDER / "requirements.txt").read_bytes() == (REPO / "requirements.lock").read_bytes()


def test_the_image_gets_python_3_11(dockerfile):
    steps, log = dockerfile
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    assert "Building conda environment for python=3.11" in log
    # the conda environment file of the base image is the one for Python 3.11
    assert (
        "environment-2epy-2d3-2e11-2dlinux-2d64-2elock"
        in steps[index_of(steps, r"^COPY .* /tmp/env/environment\.lock$")]
    )


def test_the_image_installs_graphviz_from_apt(dockerfile):
    steps, _ = dockerfile
    index_of(steps, r"apt-get install --yes --no-install-recommends graphviz( |$)")


def test_the_lock_is_installed_before_the_repository_is_copied(dockerfile):
    # Installed from binder/requirements.txt alone, so Docker reuses this layer for every
    # commit that does not change the lock.
    steps, _ = dockerfile
    copy_requirements = index_of(steps, r"^COPY .*src/binder/requirements\.txt ")
    install = index_of(steps, r'pip install --no-cache-dir -r "binder/requirements\.txt"')
    copy_repository = index_of(steps, r"^COPY .* src/ \$\{REPO_DIR\}/$")
    assert copy_requirements < install < copy_repository


def test_post_build_installs_the_course_package_after_the_repository_is_copied(dockerfile):
    steps, _ = dockerfile
    assert index_of(steps, r"^COPY .* src/ \$\{REPO_DIR\}/$") < index_of(
        steps, r"^RUN \./binder/postBuild$"
    )
    post_build = (BINDER / "postBuild").read_text()
    assert "python -m pip install --no-cache-dir --no-deps .\n" in post_build
    assert post_build.startswith("#!/bin/bash\n") and "set -euo pipefail" in post_build


def test_a_requirements_file_that_includes_the_lock_is_installed_only_after_the_copy(tmp_path):
    # Why binder/requirements.txt is a copy and not `-r ../requirements.lock`: repo2docker
    # treats -r as a local reference and installs such a file after copying the whole
    # repository, so every commit would reinstall every package.
    repo = tmp_path / "repo"
    shutil.copytree(REPO, repo, ignore=NOT_IN_THE_REPOSITORY)
    (repo / "binder" / "requirements.txt").write_text("-r ../requirements.lock\n")
    out, _ = render_dockerfile(repo, tmp_path)
    steps = dockerfile_steps(out)
    install = index_of(steps, r'pip install --no-cache-dir -r "binder/requirements\.txt"')
    assert index_of(steps, r"^COPY .* src/ \$\{REPO_DIR\}/$") < install


def test_jupyterlab_defaults_open_python_sources_as_jupytext_notebooks():
    overrides = json.loads((BINDER / "overrides.json").read_text())
    viewers = overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"python": "Jupytext Notebook"}
    # The setting exists in the installed JupyterLab, and Jupytext's extension registers a
    # viewer of that name.
    prefix = Path(sys.prefix) / "share" / "jupyter"
    schema = json.loads(
        (prefix / "lab/schemas/@jupyterlab/docmanager-extension/plugin.json").read_text()
    )
    assert "defaultViewers" in schema["properties"]
    bundles = (prefix / "labextensions/jupyterlab-jupytext/static").glob("*.js")
    assert any('"Jupytext Notebook"' in path.read_text() for path in bundles)


def test_the_default_url_opens_the_first_lesson():
    config = json.loads((BINDER / "jupyter_server_config.json").read_text())
    url = config["ServerApp"]["default_url"]
    assert url == f"/lab/tree/{FIRST_LESSON}"
    assert (REPO / FIRST_LESSON).is_file()


def test_post_build_writes_into_the_environment_and_never_into_the_home_folder():
    # On a hub the user's volume hides the image's home folder: settings must live in the
    # environment (sys.prefix) to reach every user.
    commands = [
        line
        for line in (BINDER / "postBuild").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert not [line for line in commands if re.search(r"\$HOME|~/|\$\{HOME\}", line)]
    assert (
        'cp binder/overrides.json "$prefix/share/jupyter/lab/settings/overrides.json"' in commands
    )
    # merged into the main config file: files in jupyter_server_config.d/ only enable
    # server extensions, a default_url there would be ignored
    assert any('"$prefix/etc/jupyter/jupyter_server_config.json"' in line for line in commands)


PRESET_SERVER_CONFIG = '{"ServerApp": {"terminado_settings": {"shell_command": ["/bin/bash"]}}}'


def offline_env(home: Path, venv: Path) -> dict[str, str]:
    """An environment in which pip can only use the wheelhouse, and HTTP goes nowhere."""
    # PYTENSOR_FLAGS too: the kernel spec written by postBuild must provide it.
    drop = ("PIP_", "JUPYTER", "PYTHON", "PYTENSOR", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    unreachable = "http://127.0.0.1:9"  # the discard port: any download attempt fails at once
    env.update(
        HOME=str(home),
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        PIP_CONFIG_FILE=os.devnull,  # ignore this machine's pip configuration
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        http_proxy=unreachable,
        https_proxy=unreachable,
        HTTP_PROXY=unreachable,
        HTTPS_PROXY=unreachable,
        no_proxy="",
    )
    return env


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{shlex.join(cmd)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def runtime_python() -> str:
    version = (BINDER / "runtime.txt").read_text().strip().removeprefix("python-")
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    found = shutil.which(f"python{version}")
    if found is None:
        pytest.fail(f"binder/runtime.txt asks for Python {version}: install python{version}.")
    return found


@pytest.fixture(scope="module")
def built_image(tmp_path_factory):
    """A fresh environment built like the image: lock, then postBuild; then the repo is gone."""
    if not any(WHEELHOUSE.glob("*.whl")):
        pytest.fail(
            f"no wheels in {WHEELHOUSE}: `make env` downloads them (needs the network once)."
        )
    tmp = tmp_path_factory.mktemp("image")
    venv, home, repo = tmp / "env", tmp / "home", tmp / "repo"
    home.mkdir()
    shutil.copytree(REPO, repo, ignore=NOT_IN_THE_REPOSITORY)
    run([runtime_python(), "-m", "venv", str(venv)])
    # A setting some other package put there before: postBuild must keep it.
    (venv / "etc/jupyter").mkdir(parents=True)
    (venv / "etc/jupyter/jupyter_server_config.json").write_text(PRESET_SERVER_CONFIG)
    env = offline_env(home, venv)
    python = str(venv / "bin" / "python")
    run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--no-index",
            "--find-links",
            str(WHEELHOUSE),
            "--requirement",
            str(repo / "binder" / "requirements.txt"),
        ],
        env=env,
    )
    run(["bash", str(repo / "binder" / "postBuild")], cwd=repo, env=env)
    # What a student's server sees on a hub: the environment, and the course in the home
    # folder (nbgitpuller), but not the image's copy of the repository (whose package was
    # installed into the environment by postBuild).
    for part in ("notebooks", "slides", "tests/tolerances"):
        shutil.copytree(repo / part, home / part)
    shutil.copy(repo / "course.toml", home / "course.toml")
    shutil.rmtree(repo)
    return venv, home, env


@pytest.mark.slow
def test_an_empty_wheelhouse_cannot_install_the_lock(tmp_path):
    # Negative control: the install really comes from the wheelhouse, nothing else.
    venv, empty = tmp_path / "env", tmp_path / "empty"
    empty.mkdir()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = offline_env(tmp_path, venv) | {"PIP_FIND_LINKS": str(empty)}
    result = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-index",
            "--find-links",
            str(empty),
            "--requirement",
            str(BINDER / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode != 0
    assert "No matching distribution found" in result.stderr


@pytest.mark.slow
def test_the_built_environment_has_consistent_packages_and_the_post_build_settings(built_image):
    venv, home, env = built_image
    python = str(venv / "bin" / "python")
    run([python, "-m", "pip", "check"], env=env)
    lab_settings = venv / "share/jupyter/lab/settings/overrides.json"
    assert lab_settings.read_bytes() == (BINDER / "overrides.json").read_bytes()
    server = json.loads((venv / "etc/jupyter/jupyter_server_config.json").read_text())
    assert server["ServerApp"]["default_url"] == f"/lab/tree/{FIRST_LESSON}"
    assert (
        server["ServerApp"]["terminado_settings"]
        == json.loads(PRESET_SERVER_CONFIG)["ServerApp"]["terminado_settings"]
    )
    spec = json.loads((venv / "share/jupyter/kernels/python3/kernel.json").read_text())
    assert spec["env"] == {"PYTENSOR_FLAGS": "blas__ldflags="}


@pytest.mark.slow
def test_the_built_server_opens_the_first_lesson_and_shows_py_files_as_notebooks(built_image):
    venv, home, env = built_image
    with running_server(venv, home, env) as url:
        root = urllib.request.Request(url + "/", method="GET")
        with pytest.raises(urllib.error.HTTPError) as redirect:
            LOCAL.open(root, timeout=30)
        assert redirect.value.code == 302
        assert redirect.value.headers["Location"].rstrip("?") == f"/lab/tree/{FIRST_LESSON}"
        api = f"{url}/lab/api/settings/@jupyterlab/docmanager-extension:plugin"
        with LOCAL.open(api, timeout=30) as response:
            setting = json.load(response)
    # overrides.json becomes the setting's default for every user (without it: {}).
    assert setting["schema"]["properties"]["defaultViewers"]["default"] == {
        "python": "Jupytext Notebook"
    }


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


# Requests to the local test server: no proxy, redirects reported instead of followed.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)


@contextlib.contextmanager
def running_server(venv: Path, home: Path, env: dict[str, str]):
    """Start the environment's Jupyter server on a free local port; yield its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            str(venv / "bin" / "jupyter-server"),
            "--no-browser",
            "--ServerApp.allow_root=True",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            "--IdentityProvider.token=",
            f"--ServerApp.root_dir={home}",
        ],
        cwd=home,
        env=env | {"no_proxy": "127.0.0.1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                LOCAL.open(url + "/api/status", timeout=5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    server.kill()
                    pytest.fail(
                        f"the Jupyter server did not start:\n{server.stderr.read()[-3000:]}"
                    )
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.mark.slow
def test_a_lesson_runs_in_the_built_environment_and_matches_its_committed_outputs(built_image):
    venv, home, env = built_image
    python = str(venv / "bin" / "python")
    # The kernel is the environment's own, with the PyTensor flags of its kernel spec, and
    # imports the installed course package (the repository copy is gone).
    probe = (
        "import json, nbformat, nbclient; from nbformat.v4 import new_notebook, new_code_cell\n"
        "nb = new_notebook(cells=[new_code_cell('import os, sys, course_utils; "
        'print(sys.prefix, os.environ.get("PYTENSOR_FLAGS"), course_utils.__file__)\')])\n'
        "nbclient.NotebookClient(nb, kernel_name='python3').execute()\n"
        "print(nb.cells[0].outputs[0]['text'].strip())"
    )
    prefix, flags, package = run([python, "-c", probe], cwd=home, env=env).stdout.split()
    assert Path(prefix) == venv and flags == "blas__ldflags="
    assert Path(package).is_relative_to(venv / "lib")
    # The course's own validation of the committed outputs (nbval runs every cell; outputs
    # compared within Monte Carlo error), from the installed package, in the kernel a student
    # gets: the kernel spec postBuild installed, with its PyTensor flags (nbval's
    # --nbval-current-env would start a kernel without them).
    result = run(
        [
            python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "course_utils.tools.nbcheck",
            "-q",
            "-o",
            "addopts=",
            "--nbval-kernel-name",
            "python3",
            "--rootdir",
            str(home),
            LESSON,
        ],
        cwd=home,
        env=env,
        timeout=900,
    )
    assert " passed" in result.stdout and "failed" not in result.stdout
