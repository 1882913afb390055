"""Alembic environment: migrations run on the connection that the Store hands over."""

from alembic import context

from citydiplomacy.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")


def run_migrations_online() -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=True, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


if connection is None:
    raise RuntimeError("citydiplomacy migrations run through citydiplomacy.store, not the alembic CLI")
run_migrations_online()
