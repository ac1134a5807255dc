package app_test

import "fmt"

var fmtSscanf = fmt.Sscanf
