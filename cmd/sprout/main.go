// Command sprout runs the Sprout contest and mentoring platform.
package main

import (
	"os"

	"github.com/sprout-vn/sprout/app"
)

func main() {
	os.Exit(app.Run(os.Args, os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
