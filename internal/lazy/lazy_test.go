package lazy

import "testing"

func TestRegexp(t *testing.T) {
	re := Regexp(`^a+$`)
	if !re().MatchString("aaa") || re().MatchString("b") {
		t.Fatal("the expression does not match as compiled")
	}
	if re() != re() {
		t.Fatal("compiled more than once")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an invalid expression did not panic")
		}
	}()
	Regexp(`(`)()
}
