extension Tensor {
    private func checkedDim(_ dim: Int, _ argument: String) throws -> Int {
        let d = dim < 0 ? dim + rank : dim
        try DeepGEMMError.require(d >= 0 && d < rank, argument, "dimension \(dim) is out of range for a rank-\(rank) tensor")
        return d
    }

    /// The view with dimensions `dim0` and `dim1` swapped (no copy).
    public func transposed(_ dim0: Int, _ dim1: Int) throws -> Tensor {
        let a = try checkedDim(dim0, "dim0"), b = try checkedDim(dim1, "dim1")
        var shape = self.shape, strides = self.strides
        shape.swapAt(a, b)
        strides.swapAt(a, b)
        return Tensor(unchecked: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }

    /// The view with the last two dimensions swapped (PyTorch's `.mT`; `.T` for a matrix).
    public func transposed() throws -> Tensor {
        try DeepGEMMError.require(rank >= 2, "tensor", "transposing the last two dimensions needs rank >= 2, got \(rank)")
        return try transposed(-2, -1)
    }

    /// The view of `length` indices of `dim` starting at `start` (no copy).
    public func narrow(dim: Int, start: Int, length: Int) throws -> Tensor {
        let d = try checkedDim(dim, "dim")
        try DeepGEMMError.require(start >= 0 && length >= 0 && start + length <= shape[d], "start",
                                  "range [\(start), \(start + length)) is outside dimension \(dim) of size \(shape[d])")
        var shape = self.shape
        shape[d] = length
        return Tensor(unchecked: storage, dtype: dtype, shape: shape, strides: strides,
                      offset: length == 0 ? offset : offset + start * strides[d])
    }

    /// The view at `index` of `dim`, with that dimension removed (no copy).
    public func select(dim: Int, index: Int) throws -> Tensor {
        let d = try checkedDim(dim, "dim")
        try DeepGEMMError.require(index >= 0 && index < shape[d], "index", "\(index) is outside dimension \(dim) of size \(shape[d])")
        var shape = self.shape, strides = self.strides
        shape.remove(at: d)
        let stride = strides.remove(at: d)
        return Tensor(unchecked: storage, dtype: dtype, shape: shape, strides: strides, offset: offset + index * stride)
    }

    /// A contiguous tensor with the same elements in a new shape (one entry may be -1). The tensor
    /// must be contiguous; the result shares its storage.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try DeepGEMMError.require(isContiguous, "tensor", "reshape needs a contiguous tensor, strides are \(strides) for shape \(shape)")
        var resolved = newShape
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        try DeepGEMMError.require(inferred.count <= 1 && newShape.allSatisfy { $0 >= -1 }, "shape", "at most one -1 and no other negative size, got \(newShape)")
        if let i = inferred.first {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            try DeepGEMMError.require(known > 0 && count % known == 0, "shape", "cannot infer -1 in \(newShape) for \(count) elements")
            resolved[i] = count / known
        }
        try DeepGEMMError.require(resolved.reduce(1, *) == count, "shape", "\(newShape) does not hold \(count) elements")
        return Tensor(unchecked: storage, dtype: dtype, shape: resolved, strides: Tensor.contiguousStrides(resolved), offset: offset)
    }

    /// The view with a size-1 dimension inserted at `dim`.
    public func unsqueezed(_ dim: Int) throws -> Tensor {
        let d = dim < 0 ? dim + rank + 1 : dim
        try DeepGEMMError.require(d >= 0 && d <= rank, "dim", "\(dim) is out of range for inserting into rank \(rank)")
        var shape = self.shape, strides = self.strides
        shape.insert(1, at: d)
        strides.insert(d < rank ? strides[d] * shape[d + 1] : 1, at: d)
        return Tensor(unchecked: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
    }

    /// The same bytes viewed as another dtype of the same element size (for example `int8` as
    /// packed FP4, `uint8` as UE8M0).
    public func viewing(as newType: DType) throws -> Tensor {
        try DeepGEMMError.require(newType.size == dtype.size, "dtype", "cannot view \(dtype) (\(dtype.size) bytes) as \(newType) (\(newType.size) bytes)")
        return Tensor(unchecked: storage, dtype: newType, shape: shape, strides: strides, offset: offset)
    }
}
