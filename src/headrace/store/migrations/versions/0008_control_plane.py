"""control plane: projects, versioned pipelines, job definitions, run records

Jobs gain their definition (project, tags, runtime parameters, parameter sets, the pipeline
commit they pin, error acknowledgement); ``job_runs`` rows gain each run's own record
(name, description, parameters, who started it, result, where its events and logs begin).
Every existing job lands in the ``default`` project and keeps its data.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = sa.Uuid(as_uuid=False)


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "name"),
    )
    op.create_table(
        "pipelines",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "name"),
    )
    op.create_table(
        "pipeline_commits",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("pipeline_name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("user_id", UUID, nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("pipeline", sa.Text(), nullable=False),
        sa.Column("dag", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "pipeline_name", "version"),
    )
    op.create_table(
        "pipeline_labels",
        sa.Column("tenant_id", UUID, nullable=False),
        sa.Column("pipeline_name", sa.String(length=255), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "pipeline_name", "label"),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("project", sa.String(length=255), server_default="default", nullable=False)
        )
        batch_op.add_column(sa.Column("tags", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("runtime_parameters", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("parameter_sets", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("definition", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("pipeline_name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("pipeline_version", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "require_error_ack", sa.Boolean(), server_default=sa.text("false"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "error_acknowledged", sa.Boolean(), server_default=sa.text("false"), nullable=False
            )
        )
        batch_op.create_index("ix_jobs_tenant_project", ["tenant_id", "project"], unique=False)
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("parameters", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("user_id", UUID, nullable=True))
        batch_op.add_column(sa.Column("result", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("events_after", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("logs_after", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        for column in (
            "logs_after",
            "events_after",
            "result",
            "user_id",
            "parameters",
            "description",
            "name",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_tenant_project")
        for column in (
            "error_acknowledged",
            "require_error_ack",
            "pipeline_version",
            "pipeline_name",
            "definition",
            "parameter_sets",
            "runtime_parameters",
            "tags",
            "project",
        ):
            batch_op.drop_column(column)
    op.drop_table("pipeline_labels")
    op.drop_table("pipeline_commits")
    op.drop_table("pipelines")
    op.drop_table("projects")
