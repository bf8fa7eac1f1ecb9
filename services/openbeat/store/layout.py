"""The two stores of a deployment: the public root residents read, and the private store.

The public store (OPENBEAT_STORE) holds only what a resident may read: catalog/, datasets/,
feeds/ and the site. Everything else (the publisher's staged parts, which hold records that are
not yet old enough to publish; the aggregator's and the alerter's checkpoints, which hold withheld
ids and single survey answers) lives in the private store (OPENBEAT_PRIVATE_STORE), so that
serving, syncing or opening the public root to anonymous reads can never expose it.

Defaults and rules:
- a local public folder gets a private folder *beside* it (`var/store` -> `var/private`,
  `/srv/open-data` -> `/srv/open-data-private`), never under it;
- an S3 public store has no safe default (a bucket policy on `open-data` also opens
  `open-data-private`), so the private store must be set: another bucket, or a prefix of the
  same bucket that does not start with the public prefix;
- a private store inside the public one, equal to it, or holding it is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from openbeat.store.base import ObjectStore

if TYPE_CHECKING:
    from openbeat.runtime.settings import CommonSettings

logger = logging.getLogger(__name__)

PUBLIC_VARIABLE = "OPENBEAT_STORE"
PRIVATE_VARIABLE = "OPENBEAT_PRIVATE_STORE"


class StoreSettingError(ValueError):
    """OPENBEAT_STORE or OPENBEAT_PRIVATE_STORE cannot be used; the message names which and why."""


@dataclass(frozen=True)
class Stores:
    """The public root and the private store of one deployment."""

    public: ObjectStore
    private: ObjectStore


def default_private_location(public: str) -> str:
    """Where private state goes when OPENBEAT_PRIVATE_STORE is unset: a folder beside the public
    one. S3 has no safe default (see the module docstring)."""
    if public.startswith("s3://"):
        raise StoreSettingError(
            f"{PRIVATE_VARIABLE} is not set: with {PUBLIC_VARIABLE}={public!r} give another "
            "bucket or a prefix that is never public, e.g. s3://openbeat-private/state"
        )
    path = Path(public.removeprefix("file://")).expanduser().absolute()
    name = "private" if path.name == "store" else f"{path.name}-private"
    return str(path.with_name(name))


def check_apart(public: str, private: str) -> None:
    """Refuse a private store that the public root would expose (or that would expose it)."""
    if public.startswith("s3://") != private.startswith("s3://"):
        return  # one local, one on S3: apart by construction
    if public.startswith("s3://"):
        pub_bucket, _, pub_prefix = public[5:].partition("/")
        priv_bucket, _, priv_prefix = private[5:].partition("/")
        if pub_bucket != priv_bucket:
            return
        pub_prefix, priv_prefix = pub_prefix.strip("/"), priv_prefix.strip("/")
        # Bucket policies match plain string prefixes: `open-data*` covers `open-data-private/`.
        if (
            not pub_prefix
            or priv_prefix.startswith(pub_prefix)
            or pub_prefix.startswith(priv_prefix)
        ):
            raise StoreSettingError(
                f"{PRIVATE_VARIABLE}={private!r} overlaps {PUBLIC_VARIABLE}={public!r}: "
                "use another bucket, or a prefix that neither starts nor is started by the "
                "public one"
            )
        return
    pub = Path(public.removeprefix("file://")).expanduser().resolve()
    priv = Path(private.removeprefix("file://")).expanduser().resolve()
    if pub == priv or pub in priv.parents or priv in pub.parents:
        raise StoreSettingError(
            f"{PRIVATE_VARIABLE}={private!r} overlaps {PUBLIC_VARIABLE}={public!r}: put the "
            "private store beside the public folder, never inside it (e.g. var/private beside "
            "var/store)"
        )


def open_stores(settings: CommonSettings) -> Stores:
    """The public and private stores the settings describe, checked to be apart."""
    public_url = settings.store
    private_url = settings.private_store or default_private_location(public_url)
    check_apart(public_url, private_url)
    public = _open(settings, public_url, PUBLIC_VARIABLE, private=False)
    private = _open(settings, private_url, PRIVATE_VARIABLE, private=True)
    logger.debug("stores: public %r, private %r", public, private)
    return Stores(public=public, private=private)


def open_public_store(settings: CommonSettings, url: str | None = None) -> ObjectStore:
    """Only the public root (OPENBEAT_STORE, or `url`), e.g. for `openbeat verify`."""
    return _open(settings, url or settings.store, PUBLIC_VARIABLE, private=False)


def _open(settings: CommonSettings, url: str, variable: str, *, private: bool) -> ObjectStore:
    """Open one store; any problem becomes one line naming the variable and its value."""
    from openbeat.store.local import LocalStore

    if "://" in url.removeprefix("file://") and not url.startswith("s3://"):
        raise StoreSettingError(
            f"{variable}={url!r}: expected a folder, file:///path or s3://bucket/prefix"
        )
    if url.startswith("s3://") and not url[5:].partition("/")[0]:
        raise StoreSettingError(f"{variable}={url!r}: names no bucket; write s3://bucket/prefix")
    try:
        if not url.startswith("s3://"):
            return LocalStore(Path(url.removeprefix("file://")).expanduser(), private=private)
        from openbeat.store import open_store

        return open_store(
            url,
            endpoint_url=settings.s3_endpoint,
            access_key=(
                settings.s3_access_key.get_secret_value() if settings.s3_access_key else None
            ),
            secret_key=(
                settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
            ),
            region=settings.s3_region,
        )
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != url else ""
        raise StoreSettingError(
            f"{variable}={url!r}: cannot use this folder: {reason}{where}; give a writable "
            "folder or s3://bucket/prefix"
        ) from None
    except ValueError as exc:
        raise StoreSettingError(f"{variable}={url!r}: {exc}") from None
