//go:build tools

// Pins the Pulumi CLI (package main of pkg/v3) so go.mod and go.sum hold everything its build needs.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
