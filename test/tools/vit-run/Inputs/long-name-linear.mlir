module {
  func.func @vit(%x: tensor<1x3x4xf32>) -> tensor<1x3x8xf32> {
    %w = vit.weight "weight" : tensor<8x4xf32>
    %b = vit.weight "bias" : tensor<8xf32>
    %y = vit.linear %x, %w bias(%b : tensor<8xf32>) : tensor<1x3x4xf32>, tensor<8x4xf32> -> tensor<1x3x8xf32> loc("encoder.layer.11.attention.output.dense.projection")
    return %y : tensor<1x3x8xf32>
  }
}
