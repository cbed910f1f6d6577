// Package config binds command-line flags to environment variables and
// validates typed configuration at start.
//
// Every flag --some-name has an environment twin SYNAPSE_SOME_NAME; a secret
// can also be read from the file named by SYNAPSE_SOME_NAME_FILE. Flags given
// on the command line win over the environment.
package config

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// EnvPrefix starts every environment variable Synapse reads.
const EnvPrefix = "SYNAPSE_"

// EnvName is the environment twin of a flag name: database-url → SYNAPSE_DATABASE_URL.
func EnvName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// Error is a configuration problem, reported with the variable it concerns.
// The binary exits with status 2 on it.
type Error struct {
	Var      string // SYNAPSE_DATABASE_URL, or --flag when it came from the command line
	Value    string // offending value, empty when missing; never a secret's content
	Expected string
}

func (e *Error) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: missing value: expected %s", e.Var, e.Expected)
	}
	return fmt.Sprintf("%s: invalid value %q: expected %s", e.Var, e.Value, e.Expected)
}

// IsConfigError reports whether err is (or wraps) a configuration problem.
func IsConfigError(err error) bool {
	var ce *Error
	return errors.As(err, &ce)
}

// Env is where ApplyEnv reads from; tests pass their own.
type Env struct {
	Lookup   func(string) (string, bool)
	ReadFile func(string) ([]byte, error)
}

// OSEnv reads the process environment and file system.
func OSEnv() Env { return Env{Lookup: os.LookupEnv, ReadFile: os.ReadFile} }

// ApplyEnv sets every flag not given on the command line from its
// environment twin, or from the file its *_FILE twin names.
func ApplyEnv(fs *pflag.FlagSet, env Env) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			return
		}
		name := EnvName(f.Name)
		val, ok := env.Lookup(name)
		if path, fileOK := env.Lookup(name + "_FILE"); fileOK && !ok {
			b, err := env.ReadFile(path)
			if err != nil {
				errs = append(errs, &Error{Var: name + "_FILE", Value: path, Expected: "a readable file (" + err.Error() + ")"})
				return
			}
			val, ok = strings.TrimRight(string(b), "\r\n"), true
		}
		if !ok {
			return
		}
		if err := f.Value.Set(val); err != nil {
			shown := val
			if isSecret(f) {
				shown = "(hidden)"
			}
			errs = append(errs, &Error{Var: name, Value: shown, Expected: expectation(f)})
			return
		}
		f.Changed = true
	})
	return errors.Join(errs...)
}

// SecretAnnotation marks a flag whose value must never be printed.
const SecretAnnotation = "synapse_secret"

// MarkSecret flags a value (token, key) so that errors and references hide it.
func MarkSecret(fs *pflag.FlagSet, name string) {
	_ = fs.SetAnnotation(name, SecretAnnotation, []string{"true"})
}

func isSecret(f *pflag.Flag) bool { return len(f.Annotations[SecretAnnotation]) > 0 }

func expectation(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "duration":
		return "a duration such as 30s or 5m"
	case "int", "int32", "int64", "uint", "uint32", "uint64":
		return "a whole number"
	case "bool":
		return "true or false"
	case "float64":
		return "a number"
	default:
		return "a " + f.Value.Type()
	}
}
