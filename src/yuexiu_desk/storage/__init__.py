"""The only package that makes a database engine: ORM models, migrations, opening and backing up the store."""
