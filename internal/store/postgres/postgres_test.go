package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wardenhq/warden/internal/store/postgres"
	"github.com/wardenhq/warden/internal/store/postgres/pgtest"
	"github.com/wardenhq/warden/internal/store/storetest"
)

// openMigrated migrates the database at dsn and opens it.
func openMigrated(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	if _, _, err := postgres.Migrate(ctx, dsn); err != nil {
		t.Fatalf("Migrate = %v, want nil", err)
	}
	db, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open = %v, want nil", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) func(*testing.T) storetest.Store {
		dsn := pgtest.NewDatabase(t)
		if _, _, err := postgres.Migrate(context.Background(), dsn); err != nil {
			t.Fatalf("Migrate = %v, want nil", err)
		}
		return func(t *testing.T) storetest.Store {
			db, err := postgres.Open(context.Background(), dsn, postgres.Options{})
			if err != nil {
				t.Fatalf("Open = %v, want nil", err)
			}
			return db
		}
	})
}

func TestOpenRefusesUnmigrated(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	if _, err := postgres.Open(context.Background(), dsn, postgres.Options{}); !errors.Is(err, postgres.ErrSchema) {
		t.Fatalf("Open(unmigrated) = %v, want ErrSchema", err)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	from, to, err := postgres.Migrate(ctx, dsn)
	if err != nil || from != 0 || to < 1 {
		t.Fatalf("Migrate(fresh) = %d, %d, %v; want 0, >=1, nil", from, to, err)
	}
	from2, to2, err := postgres.Migrate(ctx, dsn)
	if err != nil || from2 != to || to2 != to {
		t.Fatalf("Migrate(again) = %d, %d, %v; want %d, %d, nil", from2, to2, err, to, to)
	}
	db := openMigrated(t, dsn)
	db.Close()
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	db := openMigrated(t, dsn)
	if _, err := db.Pool().Exec(ctx, "UPDATE warden_schema SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := postgres.Open(ctx, dsn, postgres.Options{}); !errors.Is(err, postgres.ErrSchema) {
		t.Errorf("Open(newer schema) = %v, want ErrSchema", err)
	}
	if _, _, err := postgres.Migrate(ctx, dsn); !errors.Is(err, postgres.ErrSchema) {
		t.Errorf("Migrate(newer schema) = %v, want ErrSchema", err)
	}
}
