import Testing
import CBLAS

@Test func openBLASIsLinked() {
    // 2x2 identity times a vector through sgemv: proves the system library links.
    let a: [Float] = [1, 0, 0, 1]
    let x: [Float] = [3, 4]
    var y: [Float] = [0, 0]
    cblas_sgemv(CblasRowMajor, CblasNoTrans, 2, 2, 1, a, 2, x, 1, 0, &y, 1)
    #expect(y == [3, 4])
}
