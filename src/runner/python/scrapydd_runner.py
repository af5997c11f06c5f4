"""scrapydd runner: executed by the configured Python to inspect and run a Scrapy project egg.

Usage:  PYTHON scrapydd_runner.py list --egg /path/to/project.egg
        PYTHON scrapydd_runner.py crawl --egg EGG --spider NAME [--arg k=v]... [--setting K=V]...
                                        [--items-to-stdout] [--stats-file PATH]

`list` protocol with the Node side (src/runner/spider-lister.ts):
  * exactly ONE line of JSON is written to stdout, at the very end;
  * exit 0 with {"spiders": [...]} on success;
  * exit 3 with {"error": {"reason": "UPPER_SNAKE", "message": "..."}} on a failure we understood;
  * any other exit (no JSON line) means the process died abnormally (signal, os._exit, fatal error).
Everything else (project prints, warnings, tracebacks) goes to stderr, which is for operators only.

`crawl` protocol with the agent (src/agent/runner/job-process.ts), run in the job's working dir:
  * stderr (and fd 1, redirected there) is the job's log, in Scrapy's log format;
  * fd 3 gets each scraped item as one JSON line, as soon as it is scraped;
  * fd 4 gets the final stats as one JSON object when the crawl is over;
  * in a container (src/agent/runner/docker/), where only stdin, stdout and stderr
    cross the boundary: --items-to-stdout sends the items to the original stdout instead
    of fd 3, and --stats-file writes the stats to that file (atomically) instead of fd 4;
  * EOF on stdin means the agent is gone: the crawl is stopped (hard exit 10 s later);
  * exit 0 when the crawl ran (errors or not: the agent judges the stats), 3 when the
    egg, its settings or the spider failed to load (last log line: the Python error).

Only the standard library and Scrapy are used, so it runs in whatever environment the
operator installed Scrapy into (no pkg_resources: it is deprecated and slow to import).
"""

import argparse
import configparser
import contextlib
import datetime
import json
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
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


# --------------------------------------------------------------------------------------
# crawl
# --------------------------------------------------------------------------------------

ITEMS_FD = 3
STATS_FD = 4
PARENT_GONE_GRACE_SECONDS = 10
# Above Scrapy's highest ("cmdline" = 40): beats project settings, -s and custom_settings.
RUNNER_PRIORITY = 100


class ParentWatch:
    """Stops the crawl when the agent goes away, however it died (even SIGKILL).

    The agent holds the write end of our stdin pipe and never writes: EOF means it is gone.
    A crawl nobody collects must not go on, so it is asked to stop gracefully, and the
    process hard-exits PARENT_GONE_GRACE_SECONDS later if it is still alive.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._stop = None
        self._gone = False

    def start(self):
        try:
            mode = os.fstat(0).st_mode
        except OSError:
            return
        # A terminal or /dev/null (someone running the runner by hand) is not an agent.
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode):
            threading.Thread(target=self._watch, name="scrapydd-parent-watch", daemon=True).start()

    def set_stopper(self, stop):
        """Registers how to stop the crawl; False if the agent is already gone."""
        with self._lock:
            self._stop = stop
            return not self._gone

    def _watch(self):
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        with self._lock:
            self._gone = True
            stop = self._stop
        if stop is None:  # still loading: there is nothing to wind down
            os._exit(EXIT_FAILED)
        try:
            stop()
        finally:
            time.sleep(PARENT_GONE_GRACE_SECONDS)
            os._exit(EXIT_FAILED)


def open_result_pipe(fd, name):
    try:
        os.fstat(fd)
    except OSError:
        raise RunnerError("RUNNER_FAILED", f"file descriptor {fd} ({name}) is not open") from None
    os.set_blocking(fd, True)
    # Project code may start processes: they must not hold the agent's pipes open.
    os.set_inheritable(fd, False)
    # Buffered, so write() + flush() loop over partial pipe writes.
    return os.fdopen(fd, "wb")


class ItemPipe:
    """Writes each scraped item to the items pipe as one JSON line, flushed at once."""

    def __init__(self, out):
        from scrapy.utils.serialize import ScrapyJSONEncoder

        self._out = out
        self._encoder = ScrapyJSONEncoder(ensure_ascii=False)
        self._ascii_encoder = ScrapyJSONEncoder(ensure_ascii=True)

    def item_scraped(self, item):
        try:
            data = self._encoder.encode(item).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: escape everything instead
            data = self._ascii_encoder.encode(item).encode("ascii")
        self._out.write(data + b"\n")
        self._out.flush()


def _stats_value(value):
    if isinstance(value, datetime.datetime):
        # Scrapy 2.8's core stats are naive datetime.utcnow() values.
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return str(value)


def stats_json(stats):
    plain = {str(key): value for key, value in stats.items()}
    try:
        return json.dumps(plain, default=_stats_value, ensure_ascii=True, sort_keys=True)
    except (TypeError, ValueError):  # odd keys deeper down (a custom stats collector)
        return json.dumps(plain, default=_stats_value, ensure_ascii=True, skipkeys=True)


def print_failure(failure):
    """A Twisted Failure's traceback, for the log."""
    sys.stderr.write(failure.getTraceback())


class StatsFile:
    """The final stats as a file: written beside, then renamed, so a reader never sees half."""

    def __init__(self, path):
        self._path = os.path.abspath(path)
        directory = os.path.dirname(self._path)
        if not os.path.isdir(directory):
            raise RunnerError("RUNNER_FAILED", "the directory of the stats file does not exist")

    def write(self, data):
        partial = self._path + ".part"
        with open(partial, "wb") as out:
            out.write(data)
        os.replace(partial, self._path)

    def close(self):
        pass


def cmd_crawl(args, watch, items_fd):
    items_out = open_result_pipe(items_fd, "items")
    stats_out = StatsFile(args.stats_file) if args.stats_file else open_result_pipe(STATS_FD, "stats")
    egg = os.path.abspath(args.egg)
    if not os.path.isfile(egg):
        raise RunnerError("RUNNER_FAILED", "egg file not found")
    settings, _ = load_project_settings(egg)
    # Off unless the project turns it on: one port per job (6023-6073 run out on a busy agent),
    # and its password goes to the job's log.
    settings.set("TELNETCONSOLE_ENABLED", False, priority="default")
    for key, value in args.setting:
        settings.set(key, value, priority="cmdline")
    # The agent collects the log from stderr; a LOG_FILE would hide it.
    settings.set("LOG_FILE", None, priority=RUNNER_PRIORITY)

    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    try:
        process = CrawlerProcess(settings)  # configures logging, imports every spider module
    except BaseException as exc:
        fail("SPIDER_IMPORT_FAILED", exc)
    try:
        spidercls = process.spider_loader.load(args.spider)
    except KeyError as exc:
        fail("SPIDER_NOT_FOUND", exc)
    try:
        crawler = process.create_crawler(spidercls)  # installs the reactor (TWISTED_REACTOR)
    except BaseException as exc:
        fail("CRAWLER_INIT_FAILED", exc)

    # Signal receivers are weak references: `items` must outlive the crawl.
    items = ItemPipe(items_out)
    crawler.signals.connect(items.item_scraped, signal=signals.item_scraped)
    failures = []
    crawl = process.crawl(crawler, **dict(args.arg))
    crawl.addErrback(failures.append)
    if failures:  # spider __init__ or engine setup failed before anything ran
        print_failure(failures[0])
        raise RunnerError("SPIDER_INIT_FAILED", describe(failures[0].value))

    from twisted.internet import reactor

    if not watch.set_stopper(lambda: reactor.callFromThread(process.stop)):
        raise RunnerError("RUNNER_FAILED", "the agent went away before the crawl started")
    process.start()  # until the crawl is over; SIGINT/SIGTERM stop it gracefully

    stats_out.write(stats_json(crawler.stats.get_stats()).encode("ascii"))
    stats_out.close()
    if failures:  # the crawl broke after it started (e.g. a pipeline's open_spider raised)
        print_failure(failures[0])
        raise RunnerError("CRAWL_FAILED", describe(failures[0].value))
    return EXIT_OK


def pair(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return key, value


def build_parser():
    parser = argparse.ArgumentParser(prog="scrapydd_runner", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="print the names of the egg's spiders as JSON")
    p_list.add_argument("--egg", required=True, help="path to the project egg")
    p_list.set_defaults(run=lambda args: run_json_command(cmd_list, args))

    p_crawl = sub.add_parser("crawl", help="run a spider: log on stderr, items on fd 3, stats on fd 4")
    p_crawl.add_argument("--egg", required=True, help="path to the project egg")
    p_crawl.add_argument("--spider", required=True, help="name of the spider to run")
    p_crawl.add_argument("--arg", type=pair, action="append", default=[], help="spider argument (as -a)")
    p_crawl.add_argument("--setting", type=pair, action="append", default=[], help="setting (as -s)")
    p_crawl.add_argument("--items-to-stdout", action="store_true", help="items on the original stdout, not fd 3")
    p_crawl.add_argument("--stats-file", help="write the final stats to this file, not fd 4")
    p_crawl.set_defaults(run=run_crawl)
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


def run_json_command(handler, args):
    out = claim_stdout()
    try:
        result, code = handler(args), EXIT_OK
    except RunnerError as exc:
        result, code = {"error": {"reason": exc.reason, "message": exc.message}}, EXIT_FAILED
    except BaseException as exc:  # a bug in this runner, or project code doing something odd
        traceback.print_exc(file=sys.stderr)
        result, code = {"error": {"reason": "RUNNER_FAILED", "message": describe(exc)}}, EXIT_FAILED
    # ensure_ascii keeps the line pure ASCII and free of raw newlines whatever the names contain.
    out.write(json.dumps(result, ensure_ascii=True) + "\n")
    out.flush()
    return code


def run_crawl(args):
    # Started before Scrapy is imported, so an agent dying meanwhile is noticed too.
    watch = ParentWatch()
    watch.start()
    sys.stdout.flush()
    # The original stdout, kept for the items before fd 1 is taken over; os.dup() makes it
    # non-inheritable, so processes started by project code never hold it.
    items_fd = os.dup(1) if args.items_to_stdout else ITEMS_FD
    # print() and raw fd-1 writes from project code belong in the job's log.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        return cmd_crawl(args, watch, items_fd)
    except RunnerError as exc:
        reason, message = exc.reason, exc.message
    except BaseException as exc:  # a bug in this runner, or project code doing something odd
        reason, message = "RUNNER_FAILED", describe(exc)
        with contextlib.suppress(OSError):
            traceback.print_exc(file=sys.stderr)
    # Last line of the log, in Scrapy's format: what went wrong, for the job's page.
    now = time.strftime("%Y-%m-%d %H:%M:%S")
    with contextlib.suppress(OSError):  # the agent (our stderr's reader) may be gone
        sys.stderr.write(f"{now} [scrapydd.runner] ERROR: {reason}: {message}\n")
    return EXIT_FAILED


def main(argv=None):
    # Usage errors are the caller's bug: let argparse print them and exit 2 (no JSON line).
    args = build_parser().parse_args(argv)
    code = args.run(args)
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    # os._exit skips interpreter shutdown: project code may have started non-daemon threads
    # or registered atexit hooks that would hang or print after we are done.
    os._exit(code)


if __name__ == "__main__":
    main()
