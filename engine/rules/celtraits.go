package rules

import "github.com/google/cel-go/common/types/traits"

type (
	traitsIterator = traits.Iterator
	traitsIterable = traits.Iterable
)

var _ traits.Mapper = (*lazyMap)(nil)
