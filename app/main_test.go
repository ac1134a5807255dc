package app_test

import (
	"os"
	"testing"

	"github.com/sprout-vn/sprout/app/apptest"
)

// stack is shared by every test of this package: the store servers start
// once (TestMain), and each test gets its own database and bucket.
var stack *apptest.Stack

func TestMain(m *testing.M) {
	os.Exit(apptest.Main(m, &stack))
}
