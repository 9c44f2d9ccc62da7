module {
  func.func @vit(%x: tensor<1x3x32x32xf32>) -> tensor<1x3x32x32xf32> {
    return %x : tensor<1x3x32x32xf32>
  }
}
