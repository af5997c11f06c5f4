"""scrapydd runner: executed by the configured Python to inspect (and later run) a Scrapy project egg.

Usage:  PYTHON scrapydd_runner.py list --egg /path/to/project.egg

Protocol with the Node side (src/runner/spider-lister.ts):
  * exactly ONE line of JSON is written to stdout, at the very end;
  * exit 0 with {"spiders": [...]} on success;
  * exit 3 with {"error": {"reason": "UPPER_SNAKE", "message": "..."}} on a failure we understood;
  * any other exit (no JSON line) means the process died abnormally (signal, os._exit, fatal error).
Everything else (project prints, warnings, tracebacks) goes to stderr, which is for operators only.

Only the standard library and Scrapy are used, so it runs in whatever environment the
operator installed Scrapy into (no pkg_resources: it is deprecated and slow to import).
"""

import argparse
import configparser
import contextlib
import json
import os
import shutil
import sys
import tempfile
import traceback
import zipfile

EXIT_OK = 0
EXIT_FAILED = 3

# Messages end up in API responses; a runaway exception text must not bloat them.
MAX_MESSAGE_CHARS = 2000

ENTRY_POINTS_IN_EGG = "EGG-INFO/entry_points.txt"


class RunnerError(Exception):
    """A failure with a stable reason code that the Node side maps to an API error."""

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason
        self.message = message


# Paths that must not leak into client-visible messages (server layout is nobody's business).
_redactions = {}


def describe(exc):
    """The exception's last traceback line, e.g. "ZeroDivisionError: division by zero"."""
    # format_exception_only may return several lines (SyntaxError adds the offending source
    # line and a caret); the last one is the "Type: message" line clients can act on.
    lines = traceback.format_exception_only(type(exc), exc)
    text = lines[-1].strip() if lines else type(exc).__name__
    for path, placeholder in _redactions.items():
        text = text.replace(path, placeholder)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 3] + "..."
    return text


def fail(reason, exc):
    """Log the full traceback for operators, then raise the client-facing summary."""
    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    raise RunnerError(reason, describe(exc)) from exc


# --------------------------------------------------------------------------------------
# Egg handling
# --------------------------------------------------------------------------------------


def find_settings_module(egg):
    """Module named by the egg's `[scrapy] settings = <module>` entry point."""
    module = _settings_from_metadata(egg)
    if module is None:
        module = _settings_from_zip(egg)
    if not module:
        raise RunnerError(
            "NO_SCRAPY_ENTRY_POINT",
            "egg has no scrapy entry point (EGG-INFO/entry_points.txt needs [scrapy] settings = <module>)",
        )
    return module


def _settings_from_metadata(egg):
    # importlib.metadata only recognises EGG-INFO when the file name ends in ".egg"; uploads
    # may be stored under other names, hence the zip fallback below. None = "not found here".
    try:
        from importlib.metadata import distributions

        for dist in distributions(path=[egg]):
            for ep in dist.entry_points:
                if ep.group == "scrapy" and ep.name == "settings":
                    return ep.module
    except Exception:  # unreadable metadata: let the explicit zip reader give the verdict
        traceback.print_exc(file=sys.stderr)
    return None


def _settings_from_zip(egg):
    try:
        with zipfile.ZipFile(egg) as zf:
            try:
                raw = zf.read(ENTRY_POINTS_IN_EGG)
            except KeyError:
                return None
    except (OSError, zipfile.BadZipFile) as exc:
        fail("NO_SCRAPY_ENTRY_POINT", exc)
    # entry_points.txt is INI-like; keys are case-sensitive and values may contain ':'.
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str
    try:
        parser.read_string(raw.decode("utf-8-sig"))
        value = parser.get("scrapy", "settings", fallback=None)
    except (configparser.Error, UnicodeDecodeError) as exc:
        fail("NO_SCRAPY_ENTRY_POINT", exc)
    if value is None:
        return None
    # "module:attr [extras]" -> "module", as pkg_resources' EntryPoint.module_name did.
    return value.split("[", 1)[0].split(":", 1)[0].strip() or None


def activate_egg(egg, settings_module):
    # First on sys.path so the project's packages win over anything installed with the same name.
    sys.path.insert(0, egg)
    # With this set, get_project_settings() never searches for a scrapy.cfg (init_env).
    os.environ["SCRAPY_SETTINGS_MODULE"] = settings_module


@contextlib.contextmanager
def scratch_cwd():
    """Run in an empty temporary directory.

    Scrapy and project code resolve relative paths (scrapy.cfg, HTTP cache, feeds) against
    the cwd; an empty private one keeps them from picking up or littering the server's.
    """
    previous = os.getcwd()
    path = tempfile.mkdtemp(prefix="scrapydd-runner-")
    _redactions[path] = "<workdir>"
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(previous)
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------------------
# Subcommands
# --------------------------------------------------------------------------------------


def import_scrapy():
    # Imported before the egg goes on sys.path, so a project cannot shadow Scrapy itself,
    # and so a missing Scrapy is reported as the server's problem rather than the egg's.
    try:
        import scrapy  # noqa: F401
        from scrapy.utils.misc import load_object
        from scrapy.utils.project import get_project_settings
    except Exception as exc:
        fail("SCRAPY_NOT_INSTALLED", exc)
    return get_project_settings, load_object


def load_project_settings(egg):
    get_project_settings, load_object = import_scrapy()
    activate_egg(egg, find_settings_module(egg))
    try:
        settings = get_project_settings()
    except BaseException as exc:  # includes SystemExit from project code
        fail("SETTINGS_IMPORT_FAILED", exc)
    return settings, load_object


def cmd_list(args):
    egg = os.path.abspath(args.egg)
    _redactions[egg] = "<egg>"
    if not os.path.isfile(egg):
        raise RunnerError("RUNNER_FAILED", "egg file not found")
    with scratch_cwd():
        settings, load_object = load_project_settings(egg)
        try:
            # Honour SPIDER_LOADER_CLASS like `scrapy list` does; the default loader imports
            # every module under SPIDER_MODULES, so broken spider modules surface here.
            loader_cls = load_object(settings["SPIDER_LOADER_CLASS"])
            loader = loader_cls.from_settings(settings.frozencopy())
            names = sorted(str(name) for name in loader.list())
        except BaseException as exc:
            fail("SPIDER_IMPORT_FAILED", exc)
    return {"spiders": names}


def build_parser():
    parser = argparse.ArgumentParser(prog="scrapydd_runner", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="print the names of the egg's spiders as JSON")
    p_list.add_argument("--egg", required=True, help="path to the project egg")
    p_list.set_defaults(handler=cmd_list)

    # A future `crawl` subcommand plugs in here with its own handler.
    return parser


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------


def claim_stdout():
    """Reserve the real stdout for our JSON line and point fd 1 at stderr.

    Redirecting at the file-descriptor level (not just sys.stdout) also catches os.write(1),
    C extensions and child processes spawned by project code. os.dup() returns a
    non-inheritable descriptor, so children never get hold of the real stdout.
    """
    sys.stdout.flush()
    result_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(result_fd, "w", encoding="utf-8")


def main(argv=None):
    # Usage errors are the caller's bug: let argparse print them and exit 2 (no JSON line).
    args = build_parser().parse_args(argv)
    out = claim_stdout()
    try:
        result, code = args.handler(args), EXIT_OK
    except RunnerError as exc:
        result, code = {"error": {"reason": exc.reason, "message": exc.message}}, EXIT_FAILED
    except BaseException as exc:  # a bug in this runner, or project code doing something odd
        traceback.print_exc(file=sys.stderr)
        result, code = {"error": {"reason": "RUNNER_FAILED", "message": describe(exc)}}, EXIT_FAILED
    # ensure_ascii keeps the line pure ASCII and free of raw newlines whatever the names contain.
    out.write(json.dumps(result, ensure_ascii=True) + "\n")
    out.flush()
    sys.stderr.flush()
    # os._exit skips interpreter shutdown: project code may have started non-daemon threads
    # or registered atexit hooks that would hang or print after we are done.
    os._exit(code)


if __name__ == "__main__":
    main()
