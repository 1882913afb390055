"""``citydip user`` and ``citydip token``: accounts of the web observatory, from the
command line (thin over :mod:`citydiplomacy.accounts`).

Whoever can run these commands can read and write the store file, so they need no login;
the audit log records them under the operating-system user, channel "cli".
"""

from __future__ import annotations

import difflib
import json
import sys
from enum import Enum
from typing import Optional

import typer
from rich.markup import escape

from .errors import CitydipError, NotFoundError, ValidationError
from .render import FORMAT_HELP, Format, emit, table

user_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode="markdown",
    help="Accounts of the web observatory: viewers read, editors also change data, admins also "
         "manage users and read the audit log.\n\n"
         "Example: `citydip user add maria --role editor`")

token_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode="markdown",
    help="API tokens for scripts: sent as `Authorization: Bearer cdp_...`; each acts as its user. "
         "Only a hash is stored, so a token is shown once, when created.\n\n"
         "Example: `citydip token create maria --label 'nightly import'`")



class Channel(str, Enum):
    cli = "cli"
    web = "web"
    api = "api"
    python = "python"


class Role(str, Enum):
    viewer = "viewer"
    editor = "editor"
    admin = "admin"


PASSWORD_STDIN = typer.Option(False, "--password-stdin",
                              help="Read the password from the first line of standard input "
                                   "(for scripts) instead of asking for it.")


def _who() -> str:
    """Who the audit log says did it: the operating-system user."""
    from .store.audit import os_user

    return os_user()


def _obs():
    """The observatory of the global ``--home`` (accounts need no dataset: none is built)."""
    from .cli import _open

    return _open(build=False)


def _fail(exc: CitydipError) -> None:
    from .cli import _fail as fail

    fail(exc)


def _err():
    from .cli import err

    return err


def _interactive() -> bool:
    return sys.stdin.isatty()


def _read_password(from_stdin: bool) -> str:
    """The new password: the first line of stdin, or asked twice on the terminal."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValidationError("no password on standard input; pipe one line in, e.g. "
                                  "`printf '%s\\n' \"$PASSWORD\" | citydip user add NAME --password-stdin`",
                                  field="password")
        return password
    if not _interactive():
        raise ValidationError("no terminal to ask for the password on; in scripts, pipe it in "
                              "with --password-stdin", field="password")
    try:
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    except typer.Abort:
        raise ValidationError("no password given; type it when asked, or use --password-stdin "
                              "in scripts", field="password") from None


def _user_or_fail(obs, name: str):
    from .accounts import get_user, list_users

    user = get_user(obs, name)
    if user is None:
        names = [u.name for u in list_users(obs)]
        raise NotFoundError(f"no user named '{name}'; `citydip user list` shows the users",
                            suggestions=difflib.get_close_matches(name.lower(), names, n=3, cutoff=0.6))
    return user


# -- users ------------------------------------------------------------------------------------

@user_app.command("add")
def user_add(name: str = typer.Argument(..., help="The login name: letters a-z, digits, . _ @ - "
                                                  "(kept in lower case)."),
             role: Role = typer.Option(Role.viewer, "--role", help="viewer (reads), editor (also "
                                                                   "changes data) or admin (also "
                                                                   "manages users)."),
             password_stdin: bool = PASSWORD_STDIN):
    """Create an account. The password (at least 10 characters) is asked twice, hidden;
    it is stored as an Argon2id hash, never as typed.

    Example: `citydip user add maria --role editor`
    """
    from .accounts import add_user

    try:
        password = _read_password(password_stdin)
        user = add_user(_obs(), name, password, role.value, by=_who())
    except CitydipError as exc:
        _fail(exc)
    _err().print(f"added user {user.name} ({user.role})", highlight=False, soft_wrap=True)


@user_app.command("passwd")
def user_passwd(name: str = typer.Argument(..., help="The user whose password changes."),
                password_stdin: bool = PASSWORD_STDIN):
    """Set a new password for a user; their web sessions end, their API tokens keep working.

    Example: `citydip user passwd maria`
    """
    from .accounts import set_password

    try:
        obs = _obs()
        _user_or_fail(obs, name)  # before asking for a password nobody will use
        set_password(obs, name, _read_password(password_stdin), by=_who())
    except CitydipError as exc:
        _fail(exc)
    _err().print(f"changed the password of {name.lower()}", highlight=False, soft_wrap=True)


@user_app.command("role")
def user_role(name: str = typer.Argument(..., help="The user."),
              role: Role = typer.Argument(..., help="The new role: viewer, editor or admin.")):
    """Give a user another role.

    Example: `citydip user role maria admin`
    """
    from .accounts import set_role

    try:
        set_role(_obs(), name, role.value, by=_who())
    except CitydipError as exc:
        _fail(exc)
    _err().print(f"{name.lower()} is now {role.value}", highlight=False, soft_wrap=True)


@user_app.command("remove")
def user_remove(name: str = typer.Argument(..., help="The user to remove.")):
    """Remove an account: its web sessions end and its API tokens stop working at once.
    The audit log keeps what the user did.

    Example: `citydip user remove maria`
    """
    from .accounts import remove_user

    try:
        remove_user(_obs(), name, by=_who())
    except CitydipError as exc:
        _fail(exc)
    _err().print(f"removed user {name.lower()}", highlight=False, soft_wrap=True)


@user_app.command("list")
def user_list(fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """List the accounts and their roles.

    Example: `citydip user list --format json`
    """
    from dataclasses import asdict

    from .accounts import list_users

    try:
        rows = [asdict(u) for u in list_users(_obs())]
    except CitydipError as exc:
        _fail(exc)
    if not rows and fmt == Format.table:
        _err().print("no users yet; add one with `citydip user add NAME --role admin`", highlight=False,
                     soft_wrap=True)
        return
    emit(fmt, data=rows, rows=rows, columns=["name", "role", "id"], title="users")


@user_app.command("audit")
def audit_log(limit: int = typer.Option(100, "--limit", min=1, help="How many records, newest first."),
              user: Optional[str] = typer.Option(None, "--user", help="Only what this user did (an account, "
                                                                      "an operating-system user, 'anonymous')."),
              channel: Optional[Channel] = typer.Option(None, "--channel", help="Only what came through "
                                                                                "cli, web, api or python."),
              fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """The audit log: who changed what, when (UTC) and through which channel (cli: this
    command line, as the operating-system user; web: the pages; api: the REST API); logins
    and failed logins too. Also `citydip user audit`.

    Example: `citydip audit --limit 20 --channel cli`
    """
    from .accounts import audit_log as read_log

    try:
        records = read_log(_obs(), limit=limit, user=user, channel=channel.value if channel else None)
    except CitydipError as exc:
        _fail(exc)
    rows = [{**r, "channel": r["channel"] or "", "detail": json.dumps(r["detail"], ensure_ascii=False)
             if r["detail"] else ""} for r in records]
    columns = ["at", "user_name", "channel", "action", "target", "detail"]
    # the table reads a detail as "key value, ..." (render.text); csv keeps it as JSON
    emit(fmt, data=records, rows=rows, columns=columns,
         renderables=[table("audit log (newest first)", [{**r, "channel": r["channel"] or ""} for r in records],
                            columns)])


# -- tokens -----------------------------------------------------------------------------------

@token_app.command("create")
def token_create(name: str = typer.Argument(..., help="The user the token acts as."),
                 label: str = typer.Option(..., "--label", help="What the token is for, e.g. "
                                                                "'nightly import'.")):
    """Create an API token and print it (once: only its hash is kept). Standard output
    holds the token alone, so a script can capture it.

    Example: `citydip token create maria --label 'nightly import' > maria.token`
    """
    from .accounts import create_token

    try:
        obs = _obs()
        token_id, secret = create_token(obs, _user_or_fail(obs, name), label, by=_who())
    except CitydipError as exc:
        _fail(exc)
    sys.stdout.write(secret + "\n")
    _err().print(f"token {token_id} for {name.lower()} ({escape(label)}): copy it now, it is not shown again; "
                 "send it as 'Authorization: Bearer <token>'", highlight=False, soft_wrap=True)


@token_app.command("list")
def token_list(name: str = typer.Argument(..., help="The user whose tokens to list."),
               fmt: Format = typer.Option(Format.table, "--format", "-f", help=FORMAT_HELP)):
    """List a user's tokens: id, label, when created and last used, and whether revoked
    (never the token itself).

    Example: `citydip token list maria`
    """
    from .accounts import list_tokens

    try:
        obs = _obs()
        rows = list_tokens(obs, _user_or_fail(obs, name))
    except CitydipError as exc:
        _fail(exc)
    emit(fmt, data=rows, rows=rows, columns=["id", "label", "created_at", "last_used_at", "revoked_at"],
         title=f"tokens of {name.lower()}")


@token_app.command("revoke")
def token_revoke(name: str = typer.Argument(..., help="The user the token belongs to."),
                 token_id: int = typer.Argument(..., metavar="ID", help="The token's id "
                                                                        "(see `citydip token list`).")):
    """Revoke a token: requests with it are refused from now on.

    Example: `citydip token revoke maria 3`
    """
    from .accounts import list_tokens, revoke_token

    try:
        obs = _obs()
        user = _user_or_fail(obs, name)
        if token_id not in {t["id"] for t in list_tokens(obs, user)}:
            raise NotFoundError(f"{user.name} has no token {token_id}; `citydip token list {user.name}` "
                                "shows the ids")
        revoke_token(obs, user, token_id, by=_who())
    except CitydipError as exc:
        _fail(exc)
    _err().print(f"revoked token {token_id} of {name.lower()}", highlight=False, soft_wrap=True)
